"""Pure functions that shape stored records into the spec's summary answers (FL per round, network, status).

Monitors may spell a field in more than one way (upstream did); each summary looks for a short list of aliases and
answers ``null`` for what is not known rather than inventing a number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flcollector import FieldStats, Metric, SeriesSummary

ACCURACY = ("accuracy", "global_accuracy", "acc")
LOSS = ("loss", "global_loss")
PARTICIPANTS = (
    "clients_succeeded",
    "participants",
    "clients",
    "successful_clients",
    "clients_connected",
    "connected_clients",
    "num_clients",
    "clients_count",
)
#: A round's duration, one definition for every face: the whole round when the source measured it, else its training.
ROUND_DURATION = ("total_duration_s", "training_duration_s", "duration_s", "round_duration_s", "training_duration")
CLIENT_TIME = ("training_time_s", "training_time", "duration_s", "fit_duration_s", "duration")
CLIENT_DATA = ("num_examples", "samples", "data_size", "examples", "num_samples", "data_contribution")
DEVICES = ("switches_count", "switches", "devices")
HOSTS = ("hosts_count", "hosts")
LINKS = ("links_count", "links")
#: Flow priority bands for the QoS counts (OpenFlow priorities; learned L2 flows sit at 1, table-miss at 0).
HIGH_PRIORITY, MEDIUM_PRIORITY = 1000, 100
CLIENT_ID = ("client_id", "client", "cid", "node")
#: The ``fl_client`` fields a summary reads, by meaning (clients push ``accuracy``, ``loss``, ``training_time_s``,
#: ``samples``; the other spellings are what other clients or agents write).
CLIENT_FIELDS: dict[str, tuple[str, ...]] = {
    "accuracy": ACCURACY,
    "loss": LOSS,
    "time": CLIENT_TIME,
    "data": CLIENT_DATA,
}


def pick(fields: Mapping[str, Any], aliases: Iterable[str]) -> float | None:
    """Return the first numeric (non-bool) field among ``aliases``, or None."""
    for name in aliases:
        value = fields.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


def round_of(metric: Metric) -> int | None:
    """The round a metric belongs to: its ``round`` axis, else a ``round`` field."""
    if metric.round is not None:
        return metric.round
    value = metric.fields.get("round")
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


#: The per-round arrays of ``global_metrics``: the array's key and the field aliases it reads.
ROUND_ARRAYS: dict[str, tuple[str, ...]] = {
    "global_accuracy": ACCURACY,
    "global_loss": LOSS,
    "participants_per_round": PARTICIPANTS,
    "round_duration_seconds": ROUND_DURATION,
}


class RoundArrays:
    """Per-round arrays from ``fl_round`` metrics fed a page at a time (the newest metric of each round wins).

    Only each round's few figures are kept, never the metrics, so a route that reads an experiment of thousands of
    rounds holds one page of metrics at a time: what a call allocates grows with its answer, not with every round's
    metric (BENCHMARKS.md, "Fifth session").
    """

    def __init__(self) -> None:
        self.newest: dict[int, tuple[int, tuple[float | None, ...]]] = {}
        self.first_ns: int | None = None
        self.last_ns: int | None = None

    def add(self, metrics: Iterable[Metric]) -> None:
        """Take one page of ``fl_round`` metrics, in any order."""
        for metric in metrics:
            at = metric.time_ns
            self.first_ns = at if self.first_ns is None else min(self.first_ns, at)
            self.last_ns = at if self.last_ns is None else max(self.last_ns, at)
            number = round_of(metric)
            known = self.newest.get(number) if number is not None else None
            if number is not None and (known is None or at >= known[0]):
                self.newest[number] = (at, tuple(pick(metric.fields, aliases) for aliases in ROUND_ARRAYS.values()))

    def arrays(self) -> dict[str, list[Any]]:
        """``rounds`` and one array per figure, ordered by round."""
        numbers = sorted(self.newest)
        columns = list(zip(*(self.newest[n][1] for n in numbers), strict=True)) or [()] * len(ROUND_ARRAYS)
        return {"rounds": numbers, **{key: list(column) for key, column in zip(ROUND_ARRAYS, columns, strict=True)}}


def combined(summaries: Iterable[SeriesSummary], name: str, aliases: Iterable[str]) -> FieldStats | None:
    """The stats of the first of ``aliases`` that metric ``name`` has, over all its series (e.g. every probe
    target), or None."""
    of_name = [summary for summary in summaries if summary.name == name]
    for alias in aliases:
        parts = [summary.fields[alias] for summary in of_name if alias in summary.fields]
        if parts:
            return FieldStats(
                sum(p.count for p in parts),
                sum(p.sum for p in parts),
                min(p.min for p in parts),
                max(p.max for p in parts),
            )
    return None


def samples(summaries: Iterable[SeriesSummary], names: Iterable[str]) -> dict[str, int]:
    """How many records of each metric name the summaries cover."""
    return {name: sum(s.samples for s in summaries if s.name == name) for name in names}


def client_id(tags: Mapping[str, str]) -> str | None:
    """The client a ``fl_client`` series belongs to: its ``client_id``, ``client``, ``cid`` or ``node`` tag."""
    for key in CLIENT_ID:
        if tags.get(key):
            return tags[key]
    return None


def sum_latest(latest: Iterable[Metric], aliases: Iterable[str]) -> float | None:
    """Sum one field over the newest metric of every series (e.g. flows over all switches), or None."""
    names = tuple(aliases)
    values = [v for m in latest if (v := pick(m.fields, names)) is not None]
    return sum(values) if values else None


def client_metrics(clients: Sequence[SeriesSummary], rounds: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Per client (from the ``fl_client`` summaries): participation in ``rounds`` (the rounds of the window), rounds
    participated, mean local accuracy, loss and training time (s), and data contribution (examples, the largest
    reported)."""
    by_client: dict[str, list[SeriesSummary]] = defaultdict(list)
    for summary in clients:
        client = client_id(summary.tags)
        if client is not None:
            by_client[client].append(summary)
    known = set(rounds)
    answer: dict[str, dict[str, Any]] = {}
    for client, series in sorted(by_client.items()):
        taken = set().union(*(s.rounds for s in series))
        stats = {key: combined(series, "fl_client", aliases) for key, aliases in CLIENT_FIELDS.items()}
        answer[client] = {
            "participation_rate": round(len(taken & known) / len(known), 4) if known else None,
            "rounds_participated": len(taken),
            "avg_local_accuracy": stats["accuracy"].mean if stats["accuracy"] else None,
            "avg_local_loss": stats["loss"].mean if stats["loss"] else None,
            "avg_training_time": stats["time"].mean if stats["time"] else None,
            "data_contribution": stats["data"].max if stats["data"] else None,
            "reports": sum(s.samples for s in series),
        }
    return answer


QOS_KEYS = ("high_priority_flows", "medium_priority_flows", "low_priority_flows", "priority_violations")


def qos_counts(flows: Iterable[Mapping[str, Any]]) -> dict[str, int | None]:
    """Flows per priority band (high >= 1000, medium >= 100, else low); violations are not measured (null)."""
    counts: dict[str, int | None] = {"high_priority_flows": 0, "medium_priority_flows": 0, "low_priority_flows": 0}
    for flow in flows:
        priority = flow.get("priority") if isinstance(flow, Mapping) else None
        priority = priority if isinstance(priority, int | float) else 0
        band = "high" if priority >= HIGH_PRIORITY else "medium" if priority >= MEDIUM_PRIORITY else "low"
        counts[f"{band}_priority_flows"] = (counts[f"{band}_priority_flows"] or 0) + 1
    counts["priority_violations"] = None
    return counts


#: The traffic classes of the sdn monitor's ``sdn_traffic`` records (``<class>_bytes``).
TRAFFIC_CLASSES = ("fl", "control", "background")


def traffic_shares(summaries: Iterable[SeriesSummary]) -> dict[str, float | None]:
    """The spec's ``traffic_analysis``: each class's share (%) of the bytes the ``sdn_traffic`` records counted in
    the window; null when nothing was counted."""
    moved = {kind: combined(summaries, "sdn_traffic", (f"{kind}_bytes",)) for kind in TRAFFIC_CLASSES}
    total = sum(stats.sum for stats in moved.values() if stats is not None)
    return {
        f"{kind}_traffic_percentage": (100.0 * stats.sum / total if stats is not None else 0.0) if total > 0 else None
        for kind, stats in moved.items()
    }
