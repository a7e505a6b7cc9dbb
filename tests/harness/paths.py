"""paths -- the build under test: where the library and the command are.

The integration suite runs the library the way operators do, from a build
directory: ``$FLASKSHIELD_BUILD``, else ``<repo>/build``.
"""

import os
from pathlib import Path

from .errors import HarnessError

REPO = Path(__file__).resolve().parents[2]


def build_dir():
    """The build directory under test: $FLASKSHIELD_BUILD, else <repo>/build."""
    return Path(os.environ.get("FLASKSHIELD_BUILD") or REPO / "build").resolve()


def library_path():
    return build_dir() / "libflaskshield.so"


def command_path():
    """The `flaskshield` command (policy check / explain / run)."""
    return build_dir() / "flaskshield"


def require_library():
    """Fail (never skip) the calling test when the library is not built."""
    lib = library_path()
    if not lib.is_file():
        raise HarnessError("%s is not built (run `make`, or set "
                           "FLASKSHIELD_BUILD)" % lib)
    return lib
