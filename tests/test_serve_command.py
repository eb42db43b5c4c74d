"""The README's main job: `duban serve` on a fresh directory starts, loads the example plan and answers /healthz."""
from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import json


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_on_an_empty_directory_loads_the_example_and_listens(tmp_path):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port)], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH":
                                 str(__import__("pathlib").Path(__file__).resolve().parents[1])})
    try:
        health = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    health = json.load(r)
                    break
            except OSError:
                time.sleep(0.1)
        assert {k: health[k] for k in ("status", "documents", "tasks")} == {"status": "ok", "documents": 1, "tasks": 15}
        # the default store, whatever the working directory: ~/.local/share/duban/duban.db
        assert (tmp_path / ".local" / "share" / "duban" / "duban.db").exists()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert "已载入示例文件" in out and f"127.0.0.1:{port}" in out


def test_a_second_server_on_the_same_store_refuses_to_start(tmp_path):
    """De-duplication lives in the serving process: two servers on one store would each answer the
    other's redeliveries, so the second one stops with a clear message."""
    import fcntl

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(__import__("pathlib").Path(__file__).resolve().parents[1]),
           "DUBAN_DB": str(tmp_path / "duban.db")}
    with open(tmp_path / "duban.db.serve.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running `duban serve` holds
        done = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", str(free_port())], cwd=tmp_path,
                              capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode != 0
    assert "另一个 duban serve 正在使用数据库" in done.stdout + done.stderr
