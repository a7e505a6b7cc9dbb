"""conftest.py -- the stress suite's fixtures and harness are the integration
suite's: tests/conftest.py and tests/harness/.  Its load checks come from
tests/integration/test_reliability.py, so that directory is on sys.path."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
