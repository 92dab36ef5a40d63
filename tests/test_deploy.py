"""The service files in deploy/ are ones systemd accepts, with the protections the README
promises, and they start the commands an installation has."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ["booking-web.service", "booking-worker.service"]


@pytest.mark.parametrize("unit", UNITS)
def test_the_service_files_verify(unit, tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    text = (ROOT / "deploy" / unit).read_text()
    for line in (
        "User=booking",
        "Restart=on-failure",
        "ProtectSystem=strict",
        "PrivateTmp=true",
        "EnvironmentFile=/etc/booking/booking.env",
    ):
        assert line in text, line
    # Installed at /opt/booking: here, this checkout (its .venv has gunicorn and flask).
    installed = tmp_path / unit
    installed.write_text(text.replace("/opt/booking", str(ROOT)))
    done = subprocess.run(
        [analyze, "verify", str(installed)], capture_output=True, text=True, check=False
    )
    # systemd only warns about a value it cannot parse: any output is a mistake.
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


def test_a_mistake_in_a_service_file_is_caught(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    text = (ROOT / "deploy" / UNITS[0]).read_text().replace("/opt/booking", str(ROOT))
    broken = tmp_path / "broken.service"
    broken.write_text(text.replace("Restart=on-failure", "Restart=sometimes"))
    done = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True)
    assert "restart specifier" in done.stderr
