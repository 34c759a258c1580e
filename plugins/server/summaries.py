"""Pure functions that shape stored records into the spec's summary answers (FL per round, network, status).

Monitors may spell a field in more than one way (upstream did); each summary looks for a short list of aliases and
answers ``null`` for what is not known rather than inventing a number.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean
from typing import Any

from flcollector import Event, Metric

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


def global_metrics(rounds: Sequence[Metric]) -> dict[str, list[Any]]:
    """Per-round arrays from ``fl_round`` metrics (the newest metric of each round wins), ordered by round."""
    latest: dict[int, Metric] = {}
    for metric in rounds:
        number = round_of(metric)
        if number is not None and (number not in latest or metric.time_ns >= latest[number].time_ns):
            latest[number] = metric
    ordered = [latest[n] for n in sorted(latest)]
    return {
        "rounds": [round_of(m) for m in ordered],
        "global_accuracy": [pick(m.fields, ACCURACY) for m in ordered],
        "global_loss": [pick(m.fields, LOSS) for m in ordered],
        "participants_per_round": [pick(m.fields, PARTICIPANTS) for m in ordered],
        "round_duration_seconds": [pick(m.fields, ROUND_DURATION) for m in ordered],
    }


def _client_id(metric: Metric) -> str | None:
    for key in CLIENT_ID:
        if metric.tags.get(key):
            return metric.tags[key]
    return None


def mean(values: list[float]) -> float | None:
    """The arithmetic mean, or None for no values."""
    return fmean(values) if values else None


def client_metrics(clients: Sequence[Metric], total_rounds: int) -> dict[str, dict[str, Any]]:
    """Per-client participation rate, mean local accuracy and training time, and data contribution."""
    rounds: dict[str, set[int]] = defaultdict(set)
    accuracy: dict[str, list[float]] = defaultdict(list)
    seconds: dict[str, list[float]] = defaultdict(list)
    data: dict[str, float] = {}
    for metric in clients:
        client = _client_id(metric)
        if client is None:
            continue
        number = round_of(metric)
        if number is not None:
            rounds[client].add(number)
        for target, aliases in ((accuracy, ACCURACY), (seconds, CLIENT_TIME)):
            value = pick(metric.fields, aliases)
            if value is not None:
                target[client].append(value)
        examples = pick(metric.fields, CLIENT_DATA)
        if examples is not None:
            data[client] = max(examples, data.get(client, 0))
        rounds.setdefault(client, set())
    return {
        client: {
            "participation_rate": round(len(rounds[client]) / total_rounds, 4) if total_rounds else None,
            "rounds_participated": len(rounds[client]),
            "avg_local_accuracy": mean(accuracy[client]),
            "avg_training_time": mean(seconds[client]),
            "data_contribution": data.get(client),
        }
        for client in sorted(rounds)
    }


def series_values(metrics: Iterable[Metric], aliases: Iterable[str]) -> list[float]:
    """Every value of the first matching alias across ``metrics``."""
    names = tuple(aliases)
    return [v for m in metrics if (v := pick(m.fields, names)) is not None]


def sum_latest(latest: Iterable[Metric], aliases: Iterable[str]) -> float | None:
    """Sum one field over the newest metric of every series (e.g. flows over all switches), or None."""
    values = series_values(latest, aliases)
    return sum(values) if values else None


def port_mbps(port: Metric) -> float | None:
    """An ``sdn_port`` metric's rx + tx rate in Mbit/s, or None."""
    rx, tx = port.fields.get("rx_bps"), port.fields.get("tx_bps")
    if isinstance(rx, int | float) and isinstance(tx, int | float):
        return (rx + tx) / 1e6
    return None


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


def topology_change(network: list[Metric], snapshot: Event | None) -> int | None:
    """When the topology last changed: the newest snapshot event, else the last change of the counts."""
    if snapshot is not None:
        return snapshot.time_ns
    changed, previous = None, None
    for metric in network:
        counts = tuple(pick(metric.fields, names) for names in (DEVICES, HOSTS, LINKS))
        if counts != previous:
            changed, previous = metric.time_ns, counts
    return changed
