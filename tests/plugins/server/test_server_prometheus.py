"""``GET /metrics``: Prometheus exposition of self-metrics and the latest value of every series."""

from __future__ import annotations

import socket

import httpx
import trio
from flcollector import Metric, now_ns
from flcollector.plugins.server.routes.prometheus import sanitize
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_series_and_self_metrics_are_exposed(running) -> None:
    now = now_ns()
    with trio.fail_after(10):
        await running.send(
            [
                Metric(
                    "fl_client",
                    {"accuracy": 0.5, "status": "ok", "alive": True},
                    time_ns=now - 10**9,
                    tags={"client": "c1"},
                    source="fl_server",
                    round=1,
                ),
                Metric(
                    "fl_client", {"accuracy": 0.75}, time_ns=now, tags={"client": "c1"}, source="fl_server", round=2
                ),
                Metric("probe.tcp", {"rtt-ms": 3.0}, time_ns=now, tags={"target": "fl-server:8080", "source": "x"}),
                Metric("gone", {"v": 1.0}, time_ns=now - 600 * 10**9),  # older than prometheus_expiry (5m)
            ]
        )
        response = await running.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    labels = frozenset({"source": "fl_server", "experiment": "exp_test", "client": "c1"}.items())
    assert found[("flcollector_fl_client_accuracy", labels)] == 0.75  # the latest value only
    assert ("flcollector_fl_client_alive", labels) not in found  # a field of an older sample of the series
    probe = {k: v for k, v in found.items() if k[0] == "flcollector_probe_tcp_rtt_ms"}
    assert list(probe.values()) == [3.0]
    (probe_labels,) = probe
    assert dict(probe_labels[1])["tag_source"] == "x"  # a tag named like an axis label is renamed
    assert not any(name.startswith("flcollector_gone") for name, _ in found)
    sink = running.store.runtime.instance
    writes = frozenset({"instance": sink, "plugin": "memstore"}.items())
    assert found[("flcollector_sink_writes_total", writes)] >= 1
    assert ("flcollector_listener_up", frozenset({"instance": "server", "plugin": "server"}.items())) in found
    assert any(name == "flcollector_uptime_seconds" for name, _ in found)


def test_sanitize() -> None:
    assert sanitize("probe.tcp-rtt") == "probe_tcp_rtt"
    assert sanitize("5xx") == "_5xx"


async def test_each_components_live_gauges_are_exposed(start_server) -> None:
    """Issue 8 item 5: every component's ``ComponentStats.gauges()`` is on ``/metrics``: a remote sink whose remote
    is down shows its backlog growing (records, bytes, the age of the oldest unsent one)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    extra = f'\n[[sinks.influxdb]]\nurl = "http://127.0.0.1:{closed}"\nflush_interval = "10ms"\n'
    labels = frozenset({"instance": "influxdb", "plugin": "influxdb"}.items())
    with trio.fail_after(20):
        agent = await start_server(extra)
        await agent.view.send([Metric("load", {"seq": float(i)}) for i in range(5)])
        async with httpx.AsyncClient(base_url=agent.find("listener", "server").url) as client:
            while True:  # the sink's delivery task fails and keeps the backlog: scrape until it shows
                found = samples((await client.get("/metrics")).text)
                if found.get(("flcollector_sink_backlog_records", labels), 0) >= 5:
                    break
                await trio.sleep(0.02)
    agent.stop()
    assert found[("flcollector_sink_backlog_bytes", labels)] > 0
    assert ("flcollector_sink_oldest_unsent_age_s", labels) in found
    assert found[("flcollector_sink_up", labels)] == 0.0
