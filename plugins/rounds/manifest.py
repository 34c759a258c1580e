"""An experiment's manifest: what ran, how it was configured, what the network was set to at the start, and every
gap, so a result can be reproduced and judged (``GET /api/v1/experiments/{id}``, and beside every rounds export).

Read with a :class:`~.readers.Reader`: the ``fl_experiment`` summary gives the window; ``EXPERIMENT_STARTED`` and
``AGENT_STARTED`` (written by the rounds processor) the version and the configuration; ``GNS3_PROJECT_SNAPSHOT`` and
the ``LINK_CONFIG_CHANGED`` after it the link conditions at the start; the core's ``SOURCE_UNREACHABLE`` /
``SOURCE_RECOVERED`` the outages; ``SERVER_START`` and ``FL_RUN_RESTARTED`` the FL server's restarts.
"""

from __future__ import annotations

import copy
from typing import Any

from flcollector import Metric

from .documents import iso, ns_of, status
from .readers import Reader
from .rows import ROW

#: what each source reports about its own version: metric -> {field: manifest key}
VERSION_FIELDS = {
    "gns3_project": {"server_version": "version", "api": "api"},
    "network": {"controller": "controller"},
    "policy_count": {"policy_version": "policy_version"},
}
OUTAGES = ["SOURCE_UNREACHABLE", "SOURCE_RECOVERED"]


async def manifest(reader: Reader, experiment: str, summary: Metric | None, *, current: str | None = None,
                   version: str | None = None, live_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The manifest of ``experiment`` (see the module docstring); ``live_config`` stands in when no processor
    announced one."""
    start, end = await _window(reader, experiment, summary)
    announced = [e for e in await reader.events(["EXPERIMENT_STARTED"], None, None)
                 if e.details.get("experiment") == experiment][:1]
    agents = await reader.events(["AGENT_STARTED"], start, end)
    configured = [e for e in [*announced, *agents] if isinstance(e.details.get("config"), dict)]
    config = configured[0].details if configured else {"config": live_config, "config_hash": None}
    versions = {str(v) for e in configured if (v := e.details.get("version"))} | ({version} if version else set())
    counted_metrics, counted_events = await reader.counts(experiment)
    return {
        "experiment_id": experiment,
        "start": iso(start),
        "end": iso(end),
        "status": status(summary, current) if summary is not None else None,
        "rounds": summary.fields.get("rounds") if summary is not None else None,
        "flcollector": {"versions": sorted(versions)},
        "config": {"resolved": config.get("config"), "hash": config.get("config_hash"),
                   "hashes_seen": list(dict.fromkeys(e.details.get("config_hash") for e in configured))},
        "sources": await _sources(reader, start, end),
        "gns3": await _gns3_at(reader, start),
        "outages": await _outages(reader, start, end),
        "restarts": {
            "agent_starts": [iso(e.time_ns) for e in agents],
            "fl_server": [{"type": e.type, "time": iso(e.time_ns)}
                          for e in await reader.events(["SERVER_START", "FL_RUN_RESTARTED"], start, end)],
        },
        "records": {"metrics_by_source": counted_metrics, "events_by_source": counted_events},
    }


async def _window(reader: Reader, experiment: str, summary: Metric | None) -> tuple[int | None, int | None]:
    if summary is not None:
        return ns_of(summary.fields.get("first_ns")), ns_of(summary.fields.get("last_ns"))
    rows = await reader.metrics([ROW], experiment)
    if not rows:
        return None, None
    ends = [r.fields.get("end_ns", r.time_ns) for r in rows]
    return min(r.time_ns for r in rows), max(e for e in ends if isinstance(e, int))


async def _sources(reader: Reader, start: int | None, end: int | None) -> dict[str, dict[str, Any]]:
    """What each source said of its version during the experiment (only those that report one)."""
    out: dict[str, dict[str, Any]] = {}
    for name, fields in VERSION_FIELDS.items():
        metric = await reader.latest(name, start, end)
        if metric is not None:
            found = {key: metric.fields[field] for field, key in fields.items() if field in metric.fields}
            if found:
                out.setdefault(metric.source, {}).update(found)
    return out


async def _gns3_at(reader: Reader, start: int | None) -> dict[str, Any] | None:
    """The GNS3 project and its links as configured when the experiment started (the newest snapshot before the
    start with the link changes after it applied; else the first snapshot after it)."""
    snapshots = await reader.events(["GNS3_PROJECT_SNAPSHOT"], None, start, newest=1)
    if not snapshots and start is not None:
        snapshots = (await reader.events(["GNS3_PROJECT_SNAPSHOT"], start, None))[:1]
    if not snapshots:
        return None
    snapshot = snapshots[0]
    document = copy.deepcopy(dict(snapshot.details))
    links = {link.get("link_id"): link for link in document.get("links", [])}
    changes = await reader.events(["LINK_CONFIG_CHANGED"], snapshot.time_ns + 1, start) if start else []
    for change in changes:
        link = links.get(change.details.get("link_id"))
        if link is not None:
            link.update(filters=change.details.get("filters_after"), suspend=change.details.get("suspend_after"),
                        conditions=change.details.get("after"))
    return {"snapshot_time": iso(snapshot.time_ns), "changes_applied": len(changes), **document}


async def _outages(reader: Reader, start: int | None, end: int | None) -> list[dict[str, Any]]:
    """Every time a source was unreachable (from, to; ``to`` null while it still is) and the agent's own gaps (an
    agent that stopped ends the outages it saw: the next one reports its sources afresh)."""
    before = await reader.events(OUTAGES, None, start - 1, newest=1000) if start is not None else []
    down: dict[str, int] = {}
    for event in before:  # an outage that began before the experiment and had not ended
        monitor = str(event.details.get("monitor"))
        if event.type == "SOURCE_UNREACHABLE":
            down[monitor] = event.time_ns
        else:
            down.pop(monitor, None)
    spans: list[dict[str, Any]] = []
    for event in await reader.events([*OUTAGES, "AGENT_STARTED"], start, end):
        monitor = str(event.details.get("monitor"))
        if event.type == "AGENT_STARTED":
            stopped = event.details.get("previous_record_ns")  # the last record stored before this start
            if isinstance(stopped, int):
                spans += [{"source": m, "from": iso(since), "to": iso(stopped)} for m, since in down.items()]
                spans.append({"source": "flcollector", "from": iso(stopped), "to": iso(event.time_ns)})
            down.clear()
        elif event.type == "SOURCE_UNREACHABLE":
            down.setdefault(monitor, event.time_ns)
        elif monitor in down:
            spans.append({"source": monitor, "from": iso(down.pop(monitor)), "to": iso(event.time_ns)})
    spans += [{"source": monitor, "from": iso(since), "to": None} for monitor, since in down.items()]
    return sorted(spans, key=lambda span: span["from"] or "")
