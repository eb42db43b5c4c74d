"""Shared by the operations tests: a real `duban serve` process on 127.0.0.1 (no tests here)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_env(**extra: str) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": os.environ.get("HOME", "/tmp")}
    env.update(extra)
    return env


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.load(r)
    except OSError:
        return None


def start_serve(cwd: Path, port: int, db: Path, config: Path | None = None, timeout: float = 60,
                **env: str) -> subprocess.Popen:
    """`duban --db DB serve --port PORT [--config C]`, returned once /healthz answers."""
    argv = [sys.executable, "-m", "bot.cli", "--db", str(db), "serve", "--port", str(port)]
    if config is not None:
        argv += ["--config", str(config)]
    log = open(cwd / f"serve-{port}-{time.monotonic_ns()}.log", "w")
    proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=serve_env(**env))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"duban serve exited {proc.returncode}: {Path(log.name).read_text()}")
        if health(port) is not None:
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"duban serve did not answer /healthz: {Path(log.name).read_text()}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
