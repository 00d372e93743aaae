"""The systemd units under deploy/ are ones systemd accepts as they are, every directive known to it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ("epos-serve.service", "epos-scheduler.service")
SHIPPED_EPOS = "/opt/epos/.venv/bin/epos"

pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed on this machine")


@pytest.mark.parametrize("unit", UNITS)
def test_unit_verifies_with_no_warning(unit: str, tmp_path: Path) -> None:
    # verify insists that ExecStart's program exists, so the copy points at this checkout's own epos.
    epos = Path(sys.executable).with_name("epos")
    assert epos.exists(), "the package's console script is installed beside the interpreter"
    text = (DEPLOY / unit).read_text()
    assert SHIPPED_EPOS in text
    (tmp_path / unit).write_text(text.replace(SHIPPED_EPOS, str(epos)))
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_a_start_that_fails_is_tried_again_but_not_for_ever() -> None:
    # Exit 2 is a bad setting or a database or Slack not reachable yet; the second mends itself.
    for unit in UNITS:
        text = (DEPLOY / unit).read_text()
        assert "Restart=on-failure" in text and "RestartPreventExitStatus" not in text
        assert "StartLimitBurst=10" in text and "StartLimitIntervalSec=300" in text
