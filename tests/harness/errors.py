"""errors -- how the harness stops a test that cannot go on.

The package does not import pytest.  Where a test cannot go on it raises

  HarnessError  the test FAILS: something it needs is missing or broken (the
                library is not built, an interpreter, package or server
                program is missing, a file is unreadable for Apache's
                www-data, a run outlived its timeout).  Never a skip: a
                missing piece must not pass silently.
  Unsupported   the test is SKIPPED: what it asks for is impossible by design
                (uWSGI or mod_wsgi with pyenv's interpreter).

tests/conftest.py reports them as pytest does pytest.fail(message,
pytrace=False) and pytest.skip(message); outside pytest (tests/bench) they are
ordinary exceptions.
"""


class HarnessError(AssertionError):
    """The test fails with this message (and no traceback under pytest)."""


class Unsupported(Exception):
    """The test is skipped: impossible by design on this stack."""
