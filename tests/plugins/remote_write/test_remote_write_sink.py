"""The ``remote_write`` sink through a real agent into a real Prometheus, read back with PromQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from flcollector import Event, Metric
from flcollector.plugins.remote_write import Namer, WriteRequest
from flcollector.plugins.remote_write.sink import RemoteWriteSink
from remote_agents import running_agent
from remote_servers import PrometheusServer


def sink_toml(url: str, extra: str = "") -> str:
    return f"""
[[sinks.remote_write]]
url = "{url}/api/v1/write"
flush_interval = "20ms"
batch_size = 100
backoff_initial = "20ms"
backoff_max = "200ms"
labels = {{ job = "lab" }}
{extra}
"""


def training(start_ms: int, count: int, run: str) -> list[Metric]:
    return [
        Metric("fl_training", {"accuracy": i / 1000, "round_time_ms": 250.0 + i, "bytes_total": 1000 * i,
                               "phase": "train"},
               time_ns=(start_ms + i * 100) * 1_000_000, tags={"client": f"client_{i % 2}", "run": run},
               source="fl_server", round=i)
        for i in range(count)
    ]


async def query(prometheus: PrometheusServer, expr: str, at_ms: int) -> dict[str, float]:
    result = await trio.to_thread.run_sync(prometheus.query, expr, at_ms / 1000)
    return {r["metric"].get("client", ""): float(r["value"][1]) for r in result}


async def test_samples_arrive_in_prometheus_with_conventional_names(prometheus: PrometheusServer,
                                                                    tmp_path: Path) -> None:
    start = int(time.time() * 1000) - 60_000
    records = training(start, 200, "names")
    with trio.fail_after(60):
        async with running_agent(tmp_path, sink_toml(prometheus.url)) as agent:
            await agent.send([*records, Event("ROUND_COMPLETED", "skipped: not a sample")])
        stats = agent.stats.get("sink", "remote_write")
        assert stats is not None and stats.counters["dropped"] == 0 and stats.counters["skipped"] == 1
        end = start + 200 * 100
        selector = '{run="names", job="lab", experiment="exp_remote", source="fl_server"}'
        counts = await query(prometheus, f"count_over_time(flcollector_fl_training_accuracy{selector}[10m])", end)
        assert counts == {"client_0": 100.0, "client_1": 100.0}
        seconds = await query(prometheus, f"flcollector_fl_training_round_time_seconds{selector}", end)
        assert seconds == {"client_0": pytest.approx(0.448), "client_1": pytest.approx(0.449)}  # ms -> s
        totals = await query(prometheus, f"flcollector_fl_training_bytes_total{selector}", end)
        assert totals == {"client_0": 198_000.0, "client_1": 199_000.0}
        rounds = await trio.to_thread.run_sync(prometheus.query, 'count({__name__=~".+", round!=""})', end / 1000)
        assert rounds == []  # round is not a label unless axis_labels asks for it


async def test_an_out_of_order_sample_is_dropped_alone(prometheus: PrometheusServer, tmp_path: Path) -> None:
    start = int(time.time() * 1000) - 60_000
    with trio.fail_after(60):
        async with running_agent(tmp_path, sink_toml(prometheus.url)) as agent:
            await agent.send(training(start, 20, "order"))
        late = training(start - 10_000, 1, "order")  # older than what Prometheus holds for that series: 400
        async with running_agent(tmp_path / "again", sink_toml(prometheus.url)) as agent:
            await agent.send([*training(start + 2_000, 10, "order")[:5], *late, *training(start + 3_000, 5, "order")])
        stats = agent.stats.get("sink", "remote_write")
    assert stats is not None and stats.counters["rejected"] == 1 and stats.counters["splits"] >= 1
    counts = await query(prometheus, 'count_over_time(flcollector_fl_training_accuracy{run="order"}[10m])',
                         start + 10_000)
    assert sum(counts.values()) == 30


def test_one_unit_per_record_joins_into_one_write_request(make_component: Callable[..., Any]) -> None:
    sink = make_component(RemoteWriteSink, {"prefix": "p_", "axis_labels": ["source"]})
    units = sink.encode(training(1000, 3, "unit"))
    request = WriteRequest.FromString(b"".join(units))
    assert len(units) == 3 and len(request.timeseries) == 9  # three numeric fields each
    first = request.timeseries[0]
    assert [(label.name, label.value) for label in first.labels] == [
        ("__name__", "p_fl_training_accuracy"), ("client", "client_0"), ("run", "unit"), ("source", "fl_server")]
    assert (first.samples[0].value, first.samples[0].timestamp) == (0.0, 1000)


def test_units_are_what_the_protobuf_library_writes_for_every_timestamp_length(
        make_component: Callable[..., Any]) -> None:
    """The hand-framed samples around cached prefixes decode to the request the library builds itself, whatever
    the timestamp's varint length (a prefix is cached per length) and with a string field between numbers."""
    sink = make_component(RemoteWriteSink, {"prefix": "p_", "axis_labels": []})
    times_ms = [5, 1_700_000_000_000, 3, -1_000, 1_700_000_000_001, 2**62]
    records = [Metric("m", {"a_ms": 1.5 * i, "text": "skip", "n": i, "ok": True}, time_ns=t * 1_000_000,
                      tags={"k": "v"}) for i, t in enumerate(times_ms)]
    expected = WriteRequest()
    for record in records:
        for name, value in (("p_m_a_seconds", record.fields["a_ms"] * 1e-3), ("p_m_n", float(record.fields["n"])),
                            ("p_m_ok", 1.0)):
            series = expected.timeseries.add()
            for label, label_value in (("__name__", name), ("k", "v")):
                series.labels.add(name=label, value=label_value)
            series.samples.add(value=value, timestamp=record.time_ns // 1_000_000)
    assert WriteRequest.FromString(b"".join(sink.encode(records))) == expected


def test_names_follow_prometheus_conventions() -> None:
    namer = Namer("flcollector_", ["*_total", "packets_*"])
    assert namer.series("probe_tcp", "rtt_avg_ms") == ("flcollector_probe_tcp_rtt_avg_seconds", 1e-3)
    assert namer.series("net.port", "packets_rx") == ("flcollector_net_port_packets_rx_total", 1.0)
    assert namer.series("host", "uptime_s") == ("flcollector_host_uptime_seconds", 1.0)
    assert namer.series("9lives", "bytes_total") == ("flcollector_9lives_bytes_total", 1.0)
