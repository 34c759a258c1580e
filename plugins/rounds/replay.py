"""Rebuilding the round table from the store when the processor opens, so a round that spans an agent restart
comes out as if the agent had never stopped (except what no source kept: see PLUGINS.md).

Read once, at open: the experiment summaries, the newest rows (which rounds are final, the latest RTT baseline),
the open outages, the newest topology, and every record the table reads since a little (``settle``) before the
oldest round that is not final, or the end of the newest final one (``max_hold`` back when no round is known). That
is one or two rounds of records, whatever the length of the experiment.
"""

from __future__ import annotations

from typing import Any

from flcollector import Event, EventQuery, Metric, MetricQuery, Record, Store

from .coverage import OUTAGE_EVENTS
from .experiments import EXPERIMENT
from .intake import TOPOLOGY_EVENTS
from .readers import StoreReader
from .rows import ROW
from .table import RoundTable

METRICS = ("fl_round", "fl_server", "fl_client", "sdn_port", "sdn_traffic", "sdn_traffic_rule", "sdn_fl_peer",
           "network", "probe_tcp", "gns3_link")
EVENTS = ("ROUND_STARTED", "ROUND_COMPLETED", "POLICY_DECISION", "ANOMALY_DETECTED", "LINK_CONFIG_CHANGED",
          "TOPOLOGY_SNAPSHOT", *TOPOLOGY_EVENTS, *OUTAGE_EVENTS)
ROWS_LOOKED_AT = 500  # the newest rows read to learn which rounds are final


async def rebuild(table: RoundTable, store: Store, newest_ns: int | None) -> int:
    """Restore ``table`` from ``store``; return how many records were read again."""
    for summary in await store.latest_metrics(names=[EXPERIMENT]):
        table.experiments.restore(summary)
    if newest_ns is None:
        return 0
    since = await _final_rounds(table, store)
    settle, hold = int(table.options.settle * 1e9), int(table.options.max_hold * 1e9)
    # Without a round known, records may wait up to max_hold for one: read them all again.
    start = since - settle if since is not None else newest_ns - max(settle, hold)
    snapshot = await store.query_events(EventQuery(types=["TOPOLOGY_SNAPSHOT"], end_ns=start, limit=1, order="desc"))
    records: list[Record] = [*snapshot, *await _open_outages(store, start)]
    reader = StoreReader(store)
    records += await reader.metrics(METRICS, start_ns=start)
    records += await reader.events(EVENTS, start, None)
    records.sort(key=lambda r: r.time_ns)  # stable: a poll's records keep their order
    for record in records:
        table.read(record)
    table.late = 0
    return len(records)


async def _final_rounds(table: RoundTable, store: Store) -> int | None:
    """Mark the rounds whose stored row is final; return the start of the oldest that is not (else the newest end)."""
    rows = await store.query_metrics(MetricQuery(names=[ROW], limit=ROWS_LOOKED_AT, order="desc"))
    newest: dict[tuple[str | None, int | None], Metric] = {}
    for row in rows:
        newest.setdefault((row.experiment, row.round), row)
    open_starts, ends = [], []
    for (experiment, round_), row in sorted(newest.items(), key=lambda item: item[1].time_ns):
        f = row.fields
        if isinstance(f.get("baseline_rtt_ms"), int | float):  # rows go oldest first: the newest baseline stays
            table.clean_rtts.clear()
            table.clean_rtts.append(float(f["baseline_rtt_ms"]))
        if not f.get("complete") or round_ is None:
            open_starts.append(row.time_ns)
            continue
        end = f.get("end_ns")
        window = table.timeline.ended(experiment, round_, end if isinstance(end, int) else row.time_ns, row.time_ns)
        window.final = True
        ends.append(window.end_ns or row.time_ns)
    if open_starts:
        return min(open_starts)
    return max(ends) if ends else None


async def _open_outages(store: Store, before_ns: int) -> list[Event]:
    """The newest outage event of each monitor before ``before_ns``, when it says the source was down."""
    events = await store.query_events(EventQuery(types=["SOURCE_UNREACHABLE", "SOURCE_RECOVERED"],
                                                 end_ns=before_ns, limit=1000, order="desc"))
    newest: dict[Any, Event] = {}
    for event in events:
        newest.setdefault(event.details.get("monitor"), event)
    return [e for e in newest.values() if e.type == "SOURCE_UNREACHABLE"]
