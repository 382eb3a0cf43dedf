"""The built wheel works outside the checkout: it carries migrations, templates and data."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

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
        "optout_tracker/data/secure_communities_history.csv",
        "optout_tracker/data/us-atlas/counties-albers-10m.json",
        "optout_tracker/data/SOURCES.md",
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
    assert "added 2 votes, 8 letters, 3 responses" in result.stdout
