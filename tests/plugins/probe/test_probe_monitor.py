"""The probe monitor against real sockets on 127.0.0.1: a listening port, a closed port, and a full backlog."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import flcollector.plugins.probe as probe_plugin
import pytest
import trio
from flcollector import Metric
from flcollector.options import OptionError, build_options
from flcollector.plugins.probe.monitor import ProbeMonitor, ProbeOptions

MakeComponent = Callable[..., Any]


@pytest.fixture
def listening_port() -> Iterator[int]:
    """A port on 127.0.0.1 that completes handshakes (the kernel accepts into the backlog; we never need to)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening: bound to get a free number, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def probe(make_component: MakeComponent, options: dict[str, Any]) -> dict[str, Metric]:
    monitor = make_component(ProbeMonitor, options)
    with trio.fail_after(10):
        await monitor.open()
        records = await monitor.collect()
    return {r.tags["target"]: r for r in records if isinstance(r, Metric)}


async def test_reachable_target_has_no_loss(make_component: MakeComponent, listening_port: int) -> None:
    target = f"127.0.0.1:{listening_port}"
    metrics = await probe(make_component, {"targets": [target], "count": 4, "spacing": "10ms"})
    metric = metrics[target]
    assert metric.name == "probe_tcp"
    assert metric.source == "probe"
    fields = metric.fields
    assert (fields["sent"], fields["received"], fields["loss_percent"]) == (4, 4, 0.0)
    assert 0 < fields["rtt_min_ms"] <= fields["rtt_avg_ms"] <= fields["rtt_max_ms"] < 1000
    assert 0 <= fields["jitter_ms"] <= fields["rtt_max_ms"] - fields["rtt_min_ms"]


async def test_closed_port_is_full_loss_not_an_error(make_component: MakeComponent, closed_port: int) -> None:
    target = f"127.0.0.1:{closed_port}"
    metrics = await probe(make_component, {"targets": [target], "count": 3, "spacing": "0s"})
    fields = metrics[target].fields
    assert (fields["sent"], fields["received"], fields["loss_percent"]) == (3, 0, 100.0)
    assert fields["failed_refused"] == 3
    assert not any(key.startswith("rtt_") or key == "jitter_ms" for key in fields)


async def test_mixed_targets_are_probed_concurrently_and_labelled(
    make_component: MakeComponent, listening_port: int, closed_port: int
) -> None:
    up, down = f"127.0.0.1:{listening_port}", f"localhost:{closed_port}"
    options = {"targets": [up, down], "labels": {up: "fl-server"}, "source": "net", "count": 2}
    metrics = await probe(make_component, options)
    assert list(metrics) == [up, down]  # config order
    assert metrics[up].fields["loss_percent"] == 0.0
    assert metrics[up].tags == {"target": up, "label": "fl-server"}
    assert metrics[down].fields["loss_percent"] == 100.0
    assert metrics[down].tags == {"target": down}
    assert metrics[down].source == "net"


async def test_unanswered_handshakes_time_out(make_component: MakeComponent) -> None:
    # A listener that never accepts and whose accept queue is full drops further SYNs: a silent target.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        target = f"127.0.0.1:{server.getsockname()[1]}"
        fillers = []
        try:
            for _ in range(4):  # fill the queue (its size is backlog + 1 on Linux, more on others)
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(server.getsockname())
                fillers.append(filler)
            options = {"targets": [target], "count": 2, "probe_timeout": "200ms", "spacing": "10ms"}
            fields = (await probe(make_component, options))[target].fields
        finally:
            for filler in fillers:
                filler.close()
    assert fields["loss_percent"] == 100.0
    assert fields["failed_timeout"] == 2


async def test_unresolvable_host_is_full_loss(make_component: MakeComponent) -> None:
    target = "no-such-host.invalid:80"  # .invalid never resolves (RFC 2606); the resolver answers locally
    options = {"targets": [target], "count": 2, "probe_timeout": "2s"}
    fields = (await probe(make_component, options))[target].fields
    assert (fields["loss_percent"], fields["failed_other"]) == (100.0, 2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"targets": ["127.0.0.1:80", "fl-server"]}, r"targets\[1\]: 'fl-server' is not a valid target"),
        ({"targets": ["127.0.0.1:99999"]}, "port 99999 is outside"),
        ({"targets": ["a:1"], "labels": {"b:2": "x"}}, "'b:2' not in targets"),
        ({"targets": ["a:1"], "count": 0}, "count must be greater than 0"),
        ({"targets": ["a:1"], "probe_timeout": "0s"}, "probe_timeout must be greater than 0"),
        ({"targets": "a:1"}, "expected a list"),
    ],
)
def test_bad_config_is_a_clear_error(options: dict[str, Any], message: str) -> None:
    with pytest.raises(OptionError, match=message):
        build_options(ProbeOptions, options)


async def test_no_targets_emits_nothing(make_component: MakeComponent) -> None:
    assert await probe(make_component, {}) == {}


def test_registered_through_the_hook() -> None:
    assert probe_plugin.register_monitors() == [ProbeMonitor]
