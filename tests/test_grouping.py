"""The suite's own machinery: `make test` runs pytest-xdist with `--dist loadgroup`, and the
tests that share something costly (the demo database, the servers of several machines) are
grouped onto one worker with `xdist_group`. When a release of pytest or xdist breaks that
grouping nothing fails, but every worker starts its own copy and the suite takes longer
(pytest 9.2 with xdist 3.8 did exactly this, when the browser tests were grouped too). This runs a two-test module through xdist and checks both ran on one worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

MODULE = """
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("shared")


@pytest.mark.parametrize("number", range(4))
def test_one(number):
    Path(f"{number}.worker").write_text(os.environ["PYTEST_XDIST_WORKER"])
"""


def test_grouped_tests_run_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_shared.py").write_text(MODULE)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    workers = {path.read_text() for path in tmp_path.glob("*.worker")}
    assert len(list(tmp_path.glob("*.worker"))) == 4
    assert len(workers) == 1, f"the group was spread over {sorted(workers)}"
