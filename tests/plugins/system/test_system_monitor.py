"""The system monitor against this machine's real psutil readings, with real loopback traffic for rates."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flcollector.plugins.system as system_plugin
import psutil
import pytest
import trio
from flcollector import Metric, SourceUnavailable
from flcollector.options import OptionError, build_options
from flcollector.plugins.system.monitor import SystemMonitor, SystemOptions

MakeComponent = Callable[..., Any]


async def collect(monitor: SystemMonitor) -> dict[tuple[str, tuple[tuple[str, str], ...]], Metric]:
    """Collect once; index the metrics by name and tags (host left out)."""
    records = await monitor.collect()
    return {
        (r.name, tuple(sorted((k, v) for k, v in r.tags.items() if k != "host"))): r
        for r in records
        if isinstance(r, Metric)
    }


async def test_plausible_host_metrics(make_component: MakeComponent) -> None:
    monitor = make_component(SystemMonitor, {"per_cpu": True})
    with trio.fail_after(10):
        await monitor.open()
        metrics = await collect(monitor)
    ncpu = psutil.cpu_count() or 1
    cpu = metrics[("system_cpu", (("cpu", "total"),))]
    assert 0 <= cpu.fields["usage_percent"] <= 100
    assert cpu.fields["logical_cpus"] == ncpu
    assert cpu.source == "host"
    assert cpu.tags["host"] == socket.gethostname()
    cores = [m for (name, tags), m in metrics.items() if name == "system_cpu" and tags != (("cpu", "total"),)]
    assert len(cores) <= ncpu  # a core whose times did not advance in the window is skipped
    assert all(0 <= m.fields["usage_percent"] <= 100 for m in cores)
    memory = metrics[("system_memory", ())].fields
    assert memory["total_bytes"] > 0
    assert 0 < memory["available_bytes"] <= memory["total_bytes"]
    assert 0 <= memory["used_percent"] <= 100
    assert metrics[("system_swap", ())].fields["total_bytes"] >= 0
    disk = metrics[("system_disk", (("mountpoint", "/"),))].fields
    assert disk["total_bytes"] > 0
    assert 0 <= disk["used_percent"] <= 100
    load = metrics[("system_load", ())].fields
    assert set(load) == {"load1", "load5", "load15"}
    assert all(value >= 0 for value in load.values())
    if psutil.disk_io_counters() is not None:
        assert metrics[("system_diskio", ())].fields["read_bytes_per_s"] >= 0
    assert ("system_net", (("interface", "lo"),)) not in metrics  # loopback is excluded by default
    assert all(m.time_ns == cpu.time_ns for m in metrics.values())  # one sample, one timestamp


async def test_loopback_rates_from_real_traffic(make_component: MakeComponent) -> None:
    monitor = make_component(SystemMonitor, {"include_loopback": True, "source": "node-1"})
    payload = b"x" * (4 * 1024 * 1024)
    with trio.fail_after(10):
        await monitor.open()
        before = (await collect(monitor))[("system_net", (("interface", "lo"),))]
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:

            async def drain() -> None:
                server = await listeners[0].accept()
                async with server:
                    received = 0
                    while received < len(payload):
                        chunk = await server.receive_some(65536)
                        assert chunk, "sender closed early"
                        received += len(chunk)

            nursery.start_soon(drain)
            client = await trio.open_tcp_stream("127.0.0.1", port)
            async with client:
                await client.send_all(payload)
        await listeners[0].aclose()
        after = (await collect(monitor))[("system_net", (("interface", "lo"),))]
    assert after.source == "node-1"
    assert after.fields["rx_bytes_total"] - before.fields["rx_bytes_total"] >= len(payload)
    assert after.fields["rx_bytes_per_s"] > 0
    assert after.fields["tx_packets_per_s"] > 0
    assert after.fields["rx_errors_per_s"] >= 0


async def test_explicit_interface_list_wins(make_component: MakeComponent) -> None:
    monitor = make_component(SystemMonitor, {"interfaces": ["lo", "no-such-nic0"]})
    with trio.fail_after(10):
        await monitor.open()
        metrics = await collect(monitor)
    assert [tags for name, tags in metrics if name == "system_net"] == [(("interface", "lo"),)]


async def test_processes_and_missing_mountpoints(make_component: MakeComponent, tmp_path: Path) -> None:
    name = psutil.Process().name()
    options = {"processes": [name, "no-such-process-xyz"], "mountpoints": [str(tmp_path), "/no/such/mount"]}
    monitor = make_component(SystemMonitor, options)
    with trio.fail_after(10):
        await monitor.open()
        metrics = await collect(monitor)
    mine = metrics[("system_process", (("process", name),))].fields
    assert mine["count"] >= 1
    assert mine["rss_bytes"] > 0
    assert metrics[("system_process", (("process", "no-such-process-xyz"),))].fields == {"count": 0}
    assert ("system_disk", (("mountpoint", str(tmp_path)),)) in metrics
    assert monitor.runtime.stats.extra["missing_mountpoints"] == ["/no/such/mount"]


def test_bad_option_is_a_clear_error() -> None:
    with pytest.raises(OptionError, match="expected a list"):
        build_options(SystemOptions, {"mountpoints": "/"})


def test_registered_through_the_hook() -> None:
    assert system_plugin.register_monitors() == [SystemMonitor]
    assert SystemMonitor.name == "system"


async def test_a_stuck_sample_is_abandoned_and_refused_until_it_returns(make_component: MakeComponent) -> None:
    monitor = make_component(SystemMonitor, {"mountpoints": []})
    real_sampler = monitor.sampler
    entered, release = threading.Event(), threading.Event()

    class StuckSampler:  # stands in for psutil blocked on a dead NFS mount
        def sample(self) -> Any:
            entered.set()
            release.wait(10)
            return real_sampler.sample()

    with trio.fail_after(10):
        await monitor.open()
        monitor.sampler = StuckSampler()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(monitor.collect)
            await trio.to_thread.run_sync(entered.wait)
            nursery.cancel_scope.cancel()  # what the core's timeout does
        with pytest.raises(SourceUnavailable, match="still running"):
            await monitor.collect()
        monitor.sampler = real_sampler
        release.set()
        await trio.to_thread.run_sync(monitor._sampling.acquire)  # wait for the abandoned thread to finish
        monitor._sampling.release()
        assert any(r.name == "system_memory" for r in await monitor.collect())
