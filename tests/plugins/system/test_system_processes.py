"""Matching processes by name or command line, and reading the current Python process's stats for real."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psutil
from flcollector.plugins.system.processes import ProcessSampler, process_matches


def test_matches_name_or_command_line_base_name() -> None:
    assert process_matches("python3", "python3", ["/usr/bin/python3", "app.py"])
    assert process_matches("app.py", "python3", ["/usr/bin/python3", "/srv/app.py"])
    assert process_matches("flcollector", "python3", ["/venv/bin/flcollector", "run"])
    assert not process_matches("app", "python3", ["/usr/bin/python3", "/srv/app.py"])  # no substring matches
    assert not process_matches("nginx", None, None)  # name and cmdline unreadable


def test_samples_the_current_process() -> None:
    me = psutil.Process()
    sampler = ProcessSampler([me.name(), "no-such-process-name-xyz"])
    sampler.sample()  # gives psutil a CPU baseline for our process
    sum(i * i for i in range(200_000))  # burn a little CPU between the two samples
    totals = sampler.sample()
    mine = totals[me.name()]
    assert mine.count >= 1  # other processes may share our name (xdist workers, the shell's python)
    assert mine.rss_bytes >= me.memory_info().rss // 2
    assert mine.num_threads >= 1
    assert mine.num_fds >= 3  # stdin, stdout, stderr at least
    assert 0.0 <= mine.cpu_percent <= 100.0 * (psutil.cpu_count() or 1) * mine.count
    assert totals["no-such-process-name-xyz"].count == 0


def test_matches_by_command_line_and_forgets_exited_processes() -> None:
    marker = f"flc-test-marker-{uuid.uuid4().hex[:8]}"  # a unique argument, so nothing else matches
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        sampler = ProcessSampler([marker])
        totals = sampler.sample()
        assert totals[marker].count == 1
        assert child.pid in sampler._known
    finally:
        child.kill()
        child.wait()
    assert sampler.sample()[marker].count == 0
    assert child.pid not in sampler._known
