"""The round table as documents: one per round, ``{round, aggregated_metrics, sites, network}`` (the shape other FL
frameworks' per-round logs use) plus the round's window, its coverage and whether its row is final. The route
``/api/v1/fl/rounds`` and the ``rounds`` exporter both write these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flcollector import Metric
from flcollector.plugins.server.jsonio import iso

from .experiments import FINISHED_STATES
from .rows import CLIENT, ROW
from .sections import TRAINING_FIELDS

TRAINING = frozenset({*TRAINING_FIELDS, "straggler_ratio", "stragglers"})
WINDOW = frozenset({"start_ns", "end_ns", "window_s", "complete", "updated_ns"})


def ns_of(value: object) -> int | None:
    """A field that holds nanoseconds (an integer), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def newest_rows(records: Iterable[Metric]) -> tuple[dict[tuple[Any, Any], Metric], dict[tuple[Any, Any], dict]]:
    """The newest row per ``(experiment, round)`` and the newest client record per client of each, from records in
    time order (a round's rows share its start time, so the one stored last is the newest)."""
    rows: dict[tuple[Any, Any], Metric] = {}
    clients: dict[tuple[Any, Any], dict[str, Metric]] = {}
    for record in records:
        key = (record.experiment, record.round)
        if record.name == ROW:
            rows[key] = record
        elif record.name == CLIENT:
            clients.setdefault(key, {})[record.tags.get("client", "")] = record
    return rows, clients


def round_document(row: Metric, clients: dict[str, Metric]) -> dict[str, Any]:
    """One round as a document (see the module docstring)."""
    f = row.fields
    coverage = {k.removeprefix("coverage_"): v for k, v in f.items() if k.startswith("coverage_")}
    coverage.pop("min", None)
    updated = f.get("updated_ns")
    return {
        "round": row.round,
        "experiment_id": row.experiment,
        "start": iso(ns_of(f.get("start_ns", row.time_ns))),
        "end": iso(ns_of(f.get("end_ns"))),
        "window_s": f.get("window_s"),
        "complete": bool(f.get("complete")),
        "updated": iso(updated if isinstance(updated, int) else None),
        "aggregated_metrics": {k: v for k, v in f.items() if k in TRAINING},
        "sites": {name: dict(record.fields) for name, record in sorted(clients.items())},
        "network": {k: v for k, v in f.items() if k not in TRAINING and k not in WINDOW
                    and not k.startswith("coverage_")},
        "coverage": coverage,
    }


def round_documents(records: Iterable[Metric]) -> list[dict[str, Any]]:
    """Every round in ``records`` (rows and client records in time order), by experiment and round."""
    rows, clients = newest_rows(records)
    ordered = sorted(rows.items(), key=lambda item: (item[1].time_ns, item[0][1] or 0))
    return [round_document(row, clients.get(key, {})) for key, row in ordered]


def status(summary: Metric, current: str | None) -> str:
    """``complete``, ``stopped`` (by policy), ``running`` (the agent's current experiment) or ``ended``."""
    state = summary.fields.get("state")
    if state in FINISHED_STATES:
        return "complete" if state == "complete" else "stopped"
    experiment = summary.tags.get("experiment_id") or summary.experiment
    return "running" if experiment == current else "ended"


def experiment_entry(summary: Metric, current: str | None) -> dict[str, Any]:
    """One experiment of ``GET /api/v1/experiments``."""
    f = summary.fields
    entry = {
        "id": summary.tags.get("experiment_id") or summary.experiment,
        "start": iso(ns_of(f.get("first_ns"))),
        "end": iso(ns_of(f.get("last_ns"))),
        "rounds": f.get("rounds", 0),
        "last_round": f.get("last_round"),
        "status": status(summary, current),
        "fl_state": f.get("state") or None,
    }
    if "attributed_pct" in f:
        entry["fl_traffic_attributed_pct"] = f["attributed_pct"]
    return entry
