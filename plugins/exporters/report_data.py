"""What the report shows, read from a store that streams and aggregates (:class:`flcollector.BulkStore`).

Everything is read in bounded memory: per-round records (``fl_round``, ``fl_client``) are streamed, the network
series are aggregated by the store into about :data:`BUCKETS` time buckets, and events are counted per round by
the store; only the alert timeline reads events one by one, at most :data:`TIMELINE_LIMIT` of them.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import attrs
from flcollector import Aggregation, BulkStore, EventQuery, ExportSource, Selection

BUCKETS = 240  # time buckets across the experiment for the network figures
TIMELINE_LIMIT = 2000  # alert events drawn on the timeline
STRAGGLER_FACTOR = 1.5  # a client training this many times longer than the round's median is a straggler
BUSIEST_PORTS = 4
#: Shown on the timeline besides every WARNING/ERROR/CRITICAL event (policy denials have their own figure).
TIMELINE_TYPES = ("CONVERGENCE_DETECTED", "PLATEAU", "TRAINING_PAUSED_BY_POLICY", "TRAINING_RESUMED",
                  "SOURCE_RECOVERED")
POLICY_TYPES = frozenset({"POLICY_DECISION", "POLICY_EVAL_RESULT"})
ALERT_LEVELS = ("WARNING", "ERROR", "CRITICAL")


@attrs.define
class Line:
    """One plotted series: times in ns and values (None where the bucket had none)."""

    label: str
    times: list[int] = attrs.Factory(list)
    values: list[float | None] = attrs.Factory(list)


@attrs.define
class ReportData:
    """Everything the figures and tables need, already reduced."""

    experiment: str | None
    facts: dict[str, Any]
    rounds: dict[int, dict[str, Any]] = attrs.Factory(dict)  # round -> the fl_round fields (+ time_ns)
    round_starts: dict[int, int] = attrs.Factory(dict)  # round -> ns
    stragglers: dict[int, list[str]] = attrs.Factory(dict)
    policy: dict[int, dict[str, int]] = attrs.Factory(dict)  # round -> {"allowed": n, "denied": n}
    anomalies: dict[int, int] = attrs.Factory(dict)  # round -> ANOMALY_DETECTED events
    throughput: list[Line] = attrs.Factory(list)  # Mbit/s, busiest ports
    loss: list[Line] = attrs.Factory(list)  # dropped packets/s, busiest ports
    latency: list[Line] = attrs.Factory(list)  # ms
    timeline: list[tuple[int, str, str, str]] = attrs.Factory(list)  # (time_ns, type, level, message)
    timeline_total: int = 0
    gaps: list[dict[str, Any]] = attrs.Factory(list)


async def metric_dicts(store: BulkStore, selection: Selection, aggregation: Aggregation | None = None
                       ) -> AsyncIterator[dict[str, Any]]:
    """Yield the selected metrics (raw, or aggregated) as dicts keyed by the export's column names."""
    layout = await store.metric_layout(selection)
    if not layout.rows:
        return
    table = ExportSource(store, selection, layout, 0, aggregation).metrics()
    if table is None:
        return
    async with aclosing(table.chunks()) as chunks:
        async for chunk in chunks:
            for row in chunk:
                yield dict(zip(table.columns, row, strict=True))


async def gather(store: BulkStore, experiment: str | None) -> ReportData:
    """Read everything the report of ``experiment`` (None: every record) shows."""
    everything = Selection(experiment=experiment)
    data = ReportData(experiment, await store.selection_facts(everything))
    only = attrs.evolve(everything, event_sources=(), event_types=())
    async for row in metric_dicts(store, attrs.evolve(only, metric_names=("fl_round",))):
        if row["round"] is not None:
            data.rounds[row["round"]] = row
    await _clients(store, attrs.evolve(only, metric_names=("fl_client",)), data)
    events = attrs.evolve(everything, metric_names=())
    for key, type_, level, _source, _exp, count in await store.event_tally(
        attrs.evolve(events, event_types=("POLICY_DECISION", "ANOMALY_DETECTED"))
    ):
        if key is None:
            continue
        if type_ == "ANOMALY_DETECTED":
            data.anomalies[key] = data.anomalies.get(key, 0) + count
        else:
            verdict = "denied" if level in ALERT_LEVELS else "allowed"
            data.policy.setdefault(key, {"allowed": 0, "denied": 0})[verdict] += count
    starts = await store.query_events(EventQuery(types=["ROUND_STARTED"], experiment=experiment, limit=100_000))
    data.round_starts = {e.round: e.time_ns for e in starts if e.round is not None}
    await _network(store, only, data)
    await _timeline(store, experiment, data)
    return data


async def _clients(store: BulkStore, selection: Selection, data: ReportData) -> None:
    """Stragglers per round: clients whose training time exceeds STRAGGLER_FACTOR x the round's median."""
    times: dict[int, dict[str, float]] = defaultdict(dict)
    async for row in metric_dicts(store, selection):
        seconds = row.get("training_time_s")
        if row["round"] is not None and isinstance(seconds, int | float):
            times[row["round"]][str(row.get("tag_client_id"))] = float(seconds)
    for round_, clients in times.items():
        if len(clients) >= 3:
            median = statistics.median(clients.values())
            slow = sorted(c for c, s in clients.items() if s > STRAGGLER_FACTOR * median)
            if slow:
                data.stragglers[round_] = slow


async def _network(store: BulkStore, selection: Selection, data: ReportData) -> None:
    """Throughput and loss of the busiest ports, and latency, in about BUCKETS buckets over the experiment."""
    first, last = data.facts["first_ns"], data.facts["last_ns"]
    if first is None:
        return
    bucket = max(1_000_000_000, (last - first) // BUCKETS)
    aggregation = Aggregation(bucket)
    ports: dict[str, Line] = {}
    drops: dict[str, Line] = {}
    volume: dict[str, float] = defaultdict(float)
    async for row in metric_dicts(store, attrs.evolve(selection, metric_names=("sdn_port",)), aggregation):
        port = f"switch {row.get('tag_switch')} port {row.get('tag_port')}"
        rate = _sum(row.get("rx_bps_mean"), row.get("tx_bps_mean"))
        _add(ports.setdefault(port, Line(port)), row["time_ns"], None if rate is None else rate / 1e6)
        _add(drops.setdefault(port, Line(port)), row["time_ns"], _sum(row.get("rx_drops_ps_mean"),
                                                                        row.get("tx_drops_ps_mean")))
        volume[port] += (rate or 0.0) * row["samples"]
    busiest = sorted(volume, key=lambda p: -volume[p])[:BUSIEST_PORTS]
    data.throughput = [ports[p] for p in busiest]
    data.loss = [drops[p] for p in busiest]
    latency: dict[str, Line] = {}
    names = ("network", "probe_tcp")
    async for row in metric_dicts(store, attrs.evolve(selection, metric_names=names), aggregation):
        if row["name"] == "network":
            _add(latency.setdefault("controller latency (avg)", Line("controller latency (avg)")),
                 row["time_ns"], row.get("latency_avg_ms_mean"))
        else:
            label = f"TCP handshake to {row.get('tag_label') or row.get('tag_target')}"
            _add(latency.setdefault(label, Line(label)), row["time_ns"], row.get("rtt_avg_ms_mean"))
    data.latency = list(latency.values())


async def _timeline(store: BulkStore, experiment: str | None, data: ReportData) -> None:
    """Alerts (WARNING and worse, but policy denials) and milestones; gaps from SOURCE_UNREACHABLE/RECOVERED."""
    tally = await store.event_tally(Selection(experiment=experiment, metric_names=()))

    def shown(type_: str, level: str) -> bool:
        return (level in ALERT_LEVELS and type_ not in POLICY_TYPES) or type_ in TIMELINE_TYPES

    types = sorted({type_ for _, type_, level, *_ in tally if shown(type_, level)})
    data.timeline_total = sum(row[-1] for row in tally if shown(row[1], row[2]))
    found = await store.query_events(EventQuery(types=types, experiment=experiment, limit=TIMELINE_LIMIT))
    data.timeline = [(e.time_ns, e.type, e.level, e.message) for e in found if shown(e.type, e.level)]
    down = await store.query_events(EventQuery(types=["SOURCE_UNREACHABLE", "SOURCE_RECOVERED"],
                                               experiment=experiment, limit=10_000))
    open_gaps: dict[str, dict[str, Any]] = {}
    for event in down:
        monitor = str(event.details.get("monitor") or event.source)
        if event.type == "SOURCE_UNREACHABLE":
            open_gaps[monitor] = {"source": monitor, "start_ns": event.time_ns, "end_ns": None,
                                  "error": str(event.details.get("error") or event.message)}
            data.gaps.append(open_gaps[monitor])
        elif monitor in open_gaps:
            open_gaps.pop(monitor)["end_ns"] = event.time_ns


def _sum(*values: Any) -> float | None:
    numbers = [float(v) for v in values if isinstance(v, int | float)]
    return sum(numbers) if numbers else None


def _add(line: Line, time_ns: int, value: Any) -> None:
    line.times.append(time_ns)
    line.values.append(float(value) if isinstance(value, int | float) else None)
