"""cgroup v2 and v1 limits read from fake files under a temp dir, and the system_cgroup metric built from them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from flcollector import Event, Metric
from flcollector.plugins.system.cgroup import CgroupLimits, cgroup_fields, read_cgroup_limits
from flcollector.plugins.system.monitor import SystemMonitor


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return root


def test_v2_limits(tmp_path: Path) -> None:
    root = write(tmp_path, {"cpu.max": "150000 100000", "memory.max": "536870912", "memory.current": "134217728"})
    assert read_cgroup_limits(root) == CgroupLimits(2, 1.5, 536870912, 134217728)


def test_v2_max_means_unlimited(tmp_path: Path) -> None:
    root = write(tmp_path, {"cpu.max": "max 100000", "memory.max": "max", "memory.current": "4096"})
    limits = read_cgroup_limits(root)
    assert limits == CgroupLimits(2, None, None, 4096)
    assert limits is not None
    assert cgroup_fields(limits) == {
        "cgroup_version": 2,
        "cpu_limit_cores": -1,
        "memory_limit_bytes": -1,
        "memory_usage_bytes": 4096,
    }


def test_v1_limits(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "cpu/cpu.cfs_quota_us": "50000",
            "cpu/cpu.cfs_period_us": "100000",
            "memory/memory.limit_in_bytes": "1073741824",
            "memory/memory.usage_in_bytes": "268435456",
        },
    )
    limits = read_cgroup_limits(root)
    assert limits == CgroupLimits(1, 0.5, 1073741824, 268435456)
    assert limits is not None
    assert cgroup_fields(limits) == {
        "cgroup_version": 1,
        "cpu_limit_cores": 0.5,
        "memory_limit_bytes": 1073741824,
        "memory_usage_bytes": 268435456,
        "memory_used_percent": 25.0,
    }


def test_v1_unlimited_and_combined_cpu_controller(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "cpu,cpuacct/cpu.cfs_quota_us": "-1",
            "cpu,cpuacct/cpu.cfs_period_us": "100000",
            "memory/memory.limit_in_bytes": "9223372036854771712",
            "memory/memory.usage_in_bytes": "1000",
        },
    )
    assert read_cgroup_limits(root) == CgroupLimits(1, None, None, 1000)


def test_no_cgroup_files_means_no_information(tmp_path: Path) -> None:
    assert read_cgroup_limits(tmp_path) is None
    assert cgroup_fields(CgroupLimits(2, None, None, None)) is None


@pytest.mark.parametrize(
    ("files", "bad_file"),
    [
        ({"cpu.max": "lots"}, "cpu.max"),
        ({"memory.max": "12k"}, "memory.max"),
        ({"memory/memory.limit_in_bytes": "n/a"}, "memory.limit_in_bytes"),
    ],
)
def test_garbled_file_is_named_in_the_error(tmp_path: Path, files: dict[str, str], bad_file: str) -> None:
    with pytest.raises(ValueError, match=bad_file):
        read_cgroup_limits(write(tmp_path, files))


async def test_monitor_reports_cgroup_limits(tmp_path: Path, make_component: Callable[..., Any]) -> None:
    root = write(tmp_path / "cg", {"cpu.max": "200000 100000", "memory.max": "1000", "memory.current": "250"})
    monitor = make_component(SystemMonitor, {"cgroup_root": str(root), "mountpoints": []})
    with trio.fail_after(10):
        await monitor.open()
        records = list(await monitor.collect())
    (cgroup,) = [r for r in records if isinstance(r, Metric) and r.name == "system_cgroup"]
    assert cgroup.fields["cpu_limit_cores"] == 2.0
    assert cgroup.fields["memory_used_percent"] == 25.0


async def test_garbled_cgroup_becomes_an_error_event_and_keeps_other_metrics(
    tmp_path: Path, make_component: Callable[..., Any]
) -> None:
    root = write(tmp_path / "cg", {"memory.max": "not-a-number"})
    monitor = make_component(SystemMonitor, {"cgroup_root": str(root)})
    with trio.fail_after(10):
        await monitor.open()
        records = list(await monitor.collect())
    events = [r for r in records if isinstance(r, Event)]
    assert [(e.type, e.level) for e in events] == [("MALFORMED_RESPONSE", "ERROR")]
    assert "memory.max" in events[0].message
    assert {"system_memory", "system_cpu"} <= {r.name for r in records if isinstance(r, Metric)}
    assert monitor.runtime.stats.counters["malformed"] == 1  # open() takes a baseline only, reports nothing


async def test_cgroup_can_be_switched_off(tmp_path: Path, make_component: Callable[..., Any]) -> None:
    root = write(tmp_path / "cg", {"memory.max": "1000", "memory.current": "10"})
    monitor = make_component(SystemMonitor, {"cgroup_root": str(root), "cgroup": False})
    with trio.fail_after(10):
        await monitor.open()
        records = await monitor.collect()
    assert "system_cgroup" not in {getattr(r, "name", "") for r in records}
