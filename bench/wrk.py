"""wrk, the load generator of the read benchmark: installed when missing, driven by a Lua
script that sets the request's headers and prints its figures as JSON."""

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

THREADS = 2
CONNECTIONS = 32
# wrk's default of 2 s would count a slow page (the map renders in seconds) as a timeout.
TIMEOUT = "60s"
# `done` runs once with every thread's figures merged; latencies are in microseconds.
SCRIPT = """\
wrk.method = "GET"
wrk.headers = {headers}

done = function(summary, latency, requests)
  local e = summary.errors
  local figures = {{
    requests = summary.requests, duration_us = summary.duration, bytes = summary.bytes,
    p50_us = latency:percentile(50), p99_us = latency:percentile(99),
    connect = e.connect, read = e.read, write = e.write, status = e.status, timeout = e.timeout,
  }}
  local parts = {{}}
  for k, v in pairs(figures) do
    parts[#parts + 1] = string.format('"%s": %.0f', k, v)
  end
  io.write("\\n@@wrk {{" .. table.concat(parts, ", ") .. "}}\\n")
end
"""


@dataclass
class Run:
    """One wrk run's figures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # sockets that failed or timed out, and answers other than 2xx or 3xx

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_installed() -> str:
    """wrk's path; installed from Debian when missing and this is root (as .ci/run does for
    chromium), otherwise a clear message and exit."""
    if found := shutil.which("wrk"):
        return found
    if os.geteuid() != 0:
        sys.exit("the benchmark needs wrk: install it (Debian: sudo apt-get install wrk)")
    print("installing wrk", flush=True)
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "wrk"]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    if found := shutil.which("wrk"):
        return found
    sys.exit("apt-get installed wrk but it is not on PATH")


def lua_script(directory: Path, name: str, headers: Mapping[str, str]) -> Path:
    """Write the script that sends `headers` with every request into `directory`."""
    table = "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in headers.items()) + "}"
    path = directory / f"{name}.lua"
    path.write_text(SCRIPT.format(headers=table))
    return path


def _lua(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def run(wrk: str, url: str, script: Path, seconds: float) -> Run:
    """GET `url` for `seconds` over CONNECTIONS connections with the headers of `script`."""
    command = [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency"]
    command += ["--timeout", TIMEOUT, "-s", str(script), url]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("@@wrk ")]
    if done.returncode or not lines:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    f = json.loads(lines[-1].removeprefix("@@wrk "))
    errors = sum(f[k] for k in ("connect", "read", "write", "status", "timeout"))
    return Run(f["requests"], f["duration_us"] / 1e6, f["p50_us"] / 1e3, f["p99_us"] / 1e3, errors)
