"""deploy/: the systemd unit passes `systemd-analyze verify` with no warning and is hardened (offline
exposure score); the container file builds where a container engine runs (not on this machine: the docker
client is installed but no daemon runs, so that test skips with the reason)."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "duban.service"


def unit_with_real_command(tmp_path: Path) -> Path:
    """The unit as installed, its ExecStart pointed at this checkout's `duban` (verify checks it exists)."""
    duban = Path(sys.executable).with_name("duban")
    if not duban.exists():
        pytest.skip(f"no duban entry point beside {sys.executable}")
    text = re.sub(r"^ExecStart=\S+", f"ExecStart={duban}", UNIT.read_text(encoding="utf-8"), flags=re.M)
    unit = tmp_path / "duban.service"
    unit.write_text(text, encoding="utf-8")
    return unit


@pytest.fixture
def analyze():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    return tool


def test_the_unit_verifies_without_a_warning(tmp_path, analyze):
    unit = unit_with_real_command(tmp_path)
    done = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert str(unit) not in done.stderr + done.stdout, done.stderr  # unknown keys and bad values are only warned
    text = UNIT.read_text(encoding="utf-8")
    for line in ("User=duban", "StateDirectory=duban", "Restart=on-failure", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "Environment=DUBAN_CONFIG=/etc/duban/duban.toml"):
        assert line in text.splitlines()


def test_a_broken_unit_is_caught(tmp_path, analyze):
    """The check above can fail: a misspelt key is reported."""
    unit = unit_with_real_command(tmp_path)
    unit.write_text(unit.read_text(encoding="utf-8").replace("ProtectHome=", "ProtectHom="), encoding="utf-8")
    done = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert "Unknown key" in done.stderr


def test_the_unit_is_hardened(tmp_path, analyze):
    unit = unit_with_real_command(tmp_path)
    done = subprocess.run([analyze, "security", "--offline=yes", str(unit)], capture_output=True, text=True,
                          timeout=60)
    if done.returncode != 0 and "offline" in done.stderr:
        pytest.skip("this systemd-analyze has no offline security check")
    score = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", done.stdout).group(1))
    assert score <= 2.0, done.stdout[-2000:]  # systemd calls up to 2.0 "OK"; an unhardened service is 9.6


def test_the_container_file_builds(tmp_path):
    engine = shutil.which("docker") or shutil.which("podman")
    if engine is None:
        pytest.skip("no container engine installed")
    if subprocess.run([engine, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip(f"{engine} is installed but its daemon does not run here")
    done = subprocess.run([engine, "build", "-f", str(ROOT / "deploy" / "Containerfile"), "-t", "duban-test",
                           str(ROOT)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
