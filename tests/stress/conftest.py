"""conftest.py -- the stress suite reuses the integration suite's fixtures
and harness (tests/integration/conftest.py, harness.py)."""

import importlib.util
import sys
from pathlib import Path

_IT = Path(__file__).resolve().parents[1] / "integration"
sys.path.insert(0, str(_IT))

_spec = importlib.util.spec_from_file_location("it_conftest", _IT / "conftest.py")
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
globals().update({k: v for k, v in vars(_mod).items() if not k.startswith("__")})
