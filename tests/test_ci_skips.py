"""Under CI=true a skipped test fails the run (tests/conftest.py): CI installs every tool and
service the tests need, so a skip there can only mean an install step is missing."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_probe(ci: str) -> subprocess.CompletedProcess:
    probe = HERE / f"test_probe_{uuid.uuid4().hex}.py"
    probe.write_text('import pytest\n\n\ndef test_probe():\n    pytest.skip("no tool here")\n')
    try:
        return subprocess.run(
            [sys.executable, "-m", "pytest", str(probe), "-q", "-p", "no:cacheprovider"],
            cwd=HERE.parent,
            env=os.environ | {"CI": ci},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        probe.unlink()


def test_a_skip_fails_under_ci_and_stays_a_skip_elsewhere():
    in_ci = run_probe("true")
    assert in_ci.returncode == 1, in_ci.stdout
    assert "Skipped under CI=true, where nothing may be" in in_ci.stdout
    assert "no tool here" in in_ci.stdout

    local = run_probe("")
    assert local.returncode == 0, local.stdout
    assert "1 skipped" in local.stdout
