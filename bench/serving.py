"""Starting, awaiting and stopping `optout-tracker serve` (or any server) for the benchmarks."""

import os
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


def memory_mb(pid: int) -> tuple[float, float]:
    """A process's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    rss, peak = (int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    return rss, peak


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process has used so far."""
    # The fields after the command's name, which is in parentheses and may hold spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pids: list[int], timeout: float = 60.0) -> None:
    """Wait until the processes are idle: a load generator that stops leaves requests in
    flight, and a slow page's would otherwise take CPU from whatever is measured next."""
    deadline = time.monotonic() + timeout
    used = sum(cpu_seconds(p) for p in pids)
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = sum(cpu_seconds(p) for p in pids)
        if now - used < 0.01:
            return
        used = now
