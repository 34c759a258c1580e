"""One summary per experiment, kept as the ``fl_experiment`` metric (tag ``experiment_id``), so the list of
experiments is one cheap "latest per series" query and survives restarts like any record."""

from __future__ import annotations

from typing import Any

import attrs
from flcollector import Metric

EXPERIMENT = "fl_experiment"
#: FL server states (the fl monitor's ``fl_server.state``) in which training is over for good
FINISHED_STATES = frozenset({"complete", "stopped_by_policy"})


@attrs.define
class Summary:
    """What is known of one experiment."""

    experiment: str
    first_ns: int
    last_ns: int
    rounds: int = 0  # rounds whose row is final
    last_round: int = 0
    state: str = ""  # the FL server's latest state word
    fl_server_bytes: float = 0.0  # the FL server's FL traffic in the rows
    attributed_bytes: float = 0.0  # ... of which the clients' bytes account for
    between_rounds_fl_bytes: float = 0.0  # the FL server's FL traffic that fell between rounds
    emitted_ns: int | None = None
    changed: bool = True

    def fields(self) -> dict[str, Any]:
        """The metric's fields."""
        fields: dict[str, Any] = {
            "first_ns": self.first_ns, "last_ns": self.last_ns, "rounds": self.rounds,
            "last_round": self.last_round, "state": self.state, "fl_server_bytes": self.fl_server_bytes,
            "attributed_bytes": self.attributed_bytes, "between_rounds_fl_bytes": self.between_rounds_fl_bytes,
        }
        total = self.fl_server_bytes + self.between_rounds_fl_bytes
        if total > 0:
            fields["attributed_pct"] = 100.0 * self.attributed_bytes / total
        return fields


class Experiments:
    """The summaries by experiment name."""

    def __init__(self) -> None:
        self.book: dict[str, Summary] = {}
        self.started: list[str] = []  # experiments first seen since the caller last looked

    def restore(self, metric: Metric) -> None:
        """Take back a stored ``fl_experiment`` metric (at start)."""
        name = metric.tags.get("experiment_id") or metric.experiment
        f = metric.fields
        if not name or not isinstance(f.get("first_ns"), int):
            return
        summary = Summary(name, int(f["first_ns"]), int(f.get("last_ns", f["first_ns"])))
        for key in ("rounds", "last_round", "state", "fl_server_bytes", "attributed_bytes",
                    "between_rounds_fl_bytes"):
            if key in f:
                setattr(summary, key, f[key])
        summary.changed = False
        self.book[name] = summary

    def seen(self, experiment: str | None, time_ns: int) -> Summary | None:
        """Note that ``experiment`` was active at ``time_ns``."""
        if not experiment:
            return None
        summary = self.book.get(experiment)
        if summary is None:
            summary = self.book[experiment] = Summary(experiment, time_ns, time_ns)
            self.started.append(experiment)
        if time_ns < summary.first_ns or time_ns > summary.last_ns:
            summary.first_ns, summary.last_ns = min(summary.first_ns, time_ns), max(summary.last_ns, time_ns)
            summary.changed = True
        return summary

    def state(self, experiment: str | None, state: Any, time_ns: int) -> None:
        """The FL server's state word for the experiment."""
        summary = self.seen(experiment, time_ns)
        if summary is not None and isinstance(state, str) and state != summary.state:
            summary.state, summary.changed = state, True

    def round_final(self, row: Metric) -> None:
        """A round's row became final: count it and its traffic."""
        summary = self.seen(row.experiment, row.time_ns)
        if summary is None or row.round is None:
            return
        summary.rounds += 1
        summary.last_round = max(summary.last_round, row.round)
        summary.fl_server_bytes += float(row.fields.get("fl_server_bytes", 0.0))
        summary.attributed_bytes += float(row.fields.get("attributed_bytes", 0.0))
        end = row.fields.get("end_ns")
        if isinstance(end, int):
            self.seen(row.experiment, end)
        summary.changed = True

    def between_rounds(self, experiment: str | None, fl_bytes: float, time_ns: int) -> None:
        """FL server traffic that fell between the rounds of ``experiment``."""
        summary = self.seen(experiment, time_ns)
        if summary is not None and fl_bytes:
            summary.between_rounds_fl_bytes += fl_bytes
            summary.changed = True

    def due(self, now_ns: int, every_ns: int) -> list[Metric]:
        """The summaries that changed and were not emitted in the last ``every_ns``."""
        out = []
        for summary in self.book.values():
            if summary.changed and (summary.emitted_ns is None or now_ns - summary.emitted_ns >= every_ns):
                summary.changed, summary.emitted_ns = False, now_ns
                # stamped with its newest time, which only grows: the store's "latest" keeps the newest summary
                out.append(Metric(EXPERIMENT, summary.fields(), summary.last_ns, {"experiment_id": summary.experiment},
                                  "rounds", summary.experiment, summary.last_round or None))
        return out
