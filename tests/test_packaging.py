"""The built wheel works outside the checkout: it carries migrations, templates and data."""

import os
import signal
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_runs_outside_the_checkout(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path / "dist")],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("optout_tracker-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "optout_tracker/migrations/env.py",
        "optout_tracker/data/jurisdictions.csv",
        "optout_tracker/data/agencies.csv",
        "optout_tracker/data/secure_communities_history.csv",
        "optout_tracker/data/us-atlas/counties-albers-10m.json",
        "optout_tracker/data/SOURCES.md",
        "optout_tracker/data/fonts/DejaVuSans.ttf",  # the letters' PDFs
        "optout_tracker/data/fonts/LICENSE",
        "optout_tracker/templates/letters/notice.txt",
        "optout_tracker/templates/letters/chaser.txt",
    ):
        assert needed in names
    assert any(n.startswith("optout_tracker/templates/") for n in names)
    assert any(n.startswith("optout_tracker/migrations/versions/") for n in names)

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "OPTOUT_DATABASE_URL": f"sqlite:///{elsewhere}/t.db",
    }
    code = (
        "import optout_tracker, sys; "
        f"assert optout_tracker.__file__.startswith({str(site)!r}), optout_tracker.__file__; "
        "from optout_tracker.cli import main; main(['demo'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "added 3192 jurisdictions" in result.stdout
    assert "added 11 votes, 8 letters, 4 responses, 49 announcements" in result.stdout


def test_make_run_serves_the_demo_on_the_port_it_is_given(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port the OS says is free
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OPTOUT_DATABASE_URL": f"sqlite:///{tmp_path}/run.db"}
    server = subprocess.Popen(
        ["make", "-s", "run", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # make and the server it starts stop together
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx2.get(f"http://127.0.0.1:{port}/api/v1/jurisdictions?fips=06085")
                break
            except httpx2.TransportError:
                assert server.poll() is None, "make run exited"
                assert time.monotonic() < deadline, "make run did not answer within 60 s"
                time.sleep(0.2)
        assert answer.status_code == 200
        assert answer.json()["items"][0]["name"] == "Santa Clara County"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
