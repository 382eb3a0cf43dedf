"""Starting, awaiting and stopping `optout-tracker serve` (or any server) for the benchmarks."""

import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx2

HOST = "127.0.0.1"
START_TIMEOUT = 60.0  # seconds for a server to answer after it is started


def free_port() -> int:
    # The OS picks an unused port; the tiny race until the server binds it is acceptable here.
    with socket.socket() as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def start_server(
    args: list[str], log: Path, env: Mapping[str, str], cwd: Path
) -> subprocess.Popen[bytes]:
    # Output goes to a file, not a pipe: uvicorn logs every request and a full pipe would block it.
    with log.open("wb") as out:
        return subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Terminate gracefully, then kill if it does not exit in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until_up(base: str, path: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server {base} exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx2.get(base + path, timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    sys.exit(
        f"server {base} did not answer within {START_TIMEOUT:.0f}s:\n{log.read_text()[-2000:]}"
    )
