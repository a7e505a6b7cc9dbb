"""harness -- start real interpreters and servers, with or without the library.

The integration suite runs programs the way operators do: a real interpreter or
WSGI server as a subprocess, with ``LD_PRELOAD=<build>/libflaskshield.so`` and
``FLASKSHIELD_POLICY=<policy file>`` in its environment, reached over real HTTP
on 127.0.0.1.  This package holds everything that is not a pytest fixture, so
tests may also import it directly (``from harness import ...``);
tests/conftest.py wraps it in the fixtures of tests/integration and
tests/stress, and tests/bench/bench.py uses it too.  It does not import pytest
(see errors).

Modules (everything public is also here, at the package's top level):

  errors     HarnessError (the test fails), Unsupported (it is skipped)
  paths      the build under test: build_dir, library_path, command_path,
             require_library
  preload    the environment that loads the library (library_env,
             baseline_env, env_words), sanitizer builds
  stacks     the interpreters and their Flask (Stack, make_stack, STACKS,
             other_python_stack, OTHER_PYTHONS,
             KINDS)
  processes  one-shot runs (run_python, run_cmd, run_both) and the children's
             environment (base_env, child_env); process groups
  files      write_app, write_policy, write_file, make_traversable
  logs       parse_log, find_events
  http       the HTTP client: http_request, Response
  servers    Server, start_server, stop_all_servers, free_port
"""

# Every module's public names, re-exported (`import harness as h`, `from
# harness import write_app` keep working).
from .errors import HarnessError, Unsupported
from .paths import REPO, build_dir, command_path, library_path, require_library
from .preload import (PROGRAM_SUPPRESSIONS, baseline_env, env_words,
                      library_env, preload_value, sanitizer_env,
                      sanitizer_env_for, sanitizer_runtime)
from .processes import (RUN_TIMEOUT, base_env, child_env, group_pids,
                        run_both, run_cmd, run_python)
from .stacks import (DEBIAN_ONLY_KINDS, DEBIAN_PYTHON, DIST_PACKAGES, KINDS,
                     OTHER_PYTHONS, PYENV_PYTHON, PYENV_VERSIONS, STACKS, Stack,
                     make_stack, other_python_stack, pyenv_package_env,
                     pyenv_server_path)
from .files import RUN_MAIN, make_traversable, write_app, write_file, write_policy
from .logs import find_events, parse_log
from .http import HTTP_TIMEOUT, Response, http_request
from .servers import (START_TIMEOUT, STOP_TIMEOUT, Server, ServerExited,
                      free_port, start_server, stop_all_servers)
