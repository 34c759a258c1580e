"""The column groups of a round's row, each from what the round gathered (an :class:`RoundAccumulator`).

Every function returns the fields it can compute: a field whose inputs were never measured is left out, never
written as zero (a round without probes has no ``rtt_ms``, not an RTT of 0).
"""

from __future__ import annotations

from typing import Any

from .accumulator import RoundAccumulator
from .sites import Port

Fields = dict[str, Any]
#: the fl_round fields a row copies (as the fl monitor names them)
TRAINING_FIELDS = (
    "accuracy", "loss", "total_duration_s", "training_duration_s", "fit_phase_s", "evaluate_phase_s",
    "aggregation_duration_s", "evaluation_duration_s", "config_duration_s", "clients_selected", "clients_succeeded",
    "clients_failed", "evaluations_succeeded", "evaluations_failed", "client_training_time_avg_s",
    "client_training_time_min_s", "client_training_time_max_s", "model_size_mb",
)


def training(fields: Fields | None, client_times: dict[str, float], factor: float) -> Fields:
    """The FL server's figures of the round, and its stragglers."""
    out: Fields = {k: fields[k] for k in TRAINING_FIELDS if fields and k in fields}
    avg, top = out.get("client_training_time_avg_s"), out.get("client_training_time_max_s")
    if isinstance(avg, int | float) and isinstance(top, int | float) and avg > 0:
        out["straggler_ratio"] = top / avg  # the slowest client's time over the mean
    if client_times:
        out["stragglers"] = len(stragglers(client_times, factor))
    return out


def stragglers(client_times: dict[str, float], factor: float) -> set[str]:
    """Clients whose training took more than ``factor`` times the round's median."""
    times = sorted(client_times.values())
    middle = len(times) // 2
    median = times[middle] if len(times) % 2 else (times[middle - 1] + times[middle]) / 2
    return {client for client, seconds in client_times.items() if seconds > factor * median}


def ports(acc: RoundAccumulator, capacity_mbps: float) -> Fields:
    """Bytes, packets, drops and errors over every switch port; the peak and mean port rate."""
    table = acc.volumes["port"]
    out: Fields = {}
    if table:
        names = ("port_rx_bytes", "port_tx_bytes", "port_rx_packets", "port_tx_packets")
        out.update({name: acc.total("port", i) for i, name in enumerate(names)})
        drops, packets = acc.total("port", 4) + acc.total("port", 5), out["port_rx_packets"] + out["port_tx_packets"]
        out.update(port_drops=drops, port_errors=acc.total("port", 6))
        if packets + drops > 0:
            out["port_drop_pct"] = 100.0 * drops / (packets + drops)
    rates = acc.means("rate")
    peaks = [max(m.max(0) or 0.0, m.max(1) or 0.0) for m in rates.values()]
    busiest = [max(m.mean(0) or 0.0, m.mean(1) or 0.0) for m in rates.values()]
    active = [rate for rate in busiest if rate > 0]
    if rates:
        out["port_peak_bps"] = max(peaks, default=0.0)
        out["port_mean_bps"] = sum(active) / len(active) if active else 0.0
        out["ports_active"] = len(active)
        if capacity_mbps > 0:
            out["port_peak_utilisation_pct"] = 100.0 * out["port_peak_bps"] / (capacity_mbps * 1e6)
            out["port_mean_utilisation_pct"] = 100.0 * out["port_mean_bps"] / (capacity_mbps * 1e6)
    return out


def port_loss_pct(acc: RoundAccumulator, port: Port | None) -> float | None:
    """Round-trip loss seen as drops on one switch port: ``1 - (1 - rx drop share)(1 - tx drop share)``, in %."""
    values = acc.volumes["port"].get(port) if port is not None else None
    if values is None:
        return None
    rx_packets, tx_packets, rx_drops, tx_drops = values[2:6]
    if rx_packets + rx_drops <= 0 or tx_packets + tx_drops <= 0:
        return None
    delivered = (rx_packets / (rx_packets + rx_drops)) * (tx_packets / (tx_packets + tx_drops))
    return 100.0 * (1.0 - delivered)


def traffic(acc: RoundAccumulator) -> Fields:
    """FL, control and background bytes (counted once, where they entered the network) and their shares."""
    values = acc.volumes["traffic"].get(None)
    if values is None:
        return {}
    classes = ("fl", "control", "background")
    out: Fields = {f"{kind}_bytes": values[i] for i, kind in enumerate(classes)}
    out["total_bytes"] = total = sum(values[:3])  # as sdn_traffic names them
    out["total_packets"] = sum(values[3:6])
    if total > 0:
        out.update({f"{kind}_pct": 100.0 * values[i] / total for i, kind in enumerate(classes)})
    return out


def controller(acc: RoundAccumulator) -> Fields:
    """The controller's own latency and loss figures, averaged over the round."""
    means = acc.readings.get(("controller", None))
    if means is None:
        return {}
    out: Fields = {}
    for i, name in enumerate(("controller_latency_ms", "controller_loss_pct")):
        value = means.mean(i)
        if value is not None:
            out[name] = value
    return out


def probe(acc: RoundAccumulator, node: str) -> Fields:
    """The probes to ``node`` (the FL server): mean RTT, jitter, loss and fastest RTT over the round."""
    means = acc.readings.get(("probe", node))
    if means is None:
        return {}
    names = ("rtt_ms", "jitter_ms", "probe_loss_pct", "rtt_min_ms")
    return {name: value for i, name in enumerate(names) if (value := means.mean(i)) is not None}


def configured(acc: RoundAccumulator, path: str, prefix: str = "configured_") -> Fields:
    """What the path was configured to add over the round: mean and worst round-trip delay, loss, jitter."""
    means = acc.readings.get(("configured", path))
    out: Fields = {}
    if means is not None and means.counts[0]:
        out[f"{prefix}rtt_added_ms"] = means.mean(0)
        out[f"{prefix}rtt_added_max_ms"] = means.max(0)
        out[f"{prefix}loss_roundtrip_pct"] = means.mean(1)
        out[f"{prefix}loss_roundtrip_max_pct"] = means.max(1)
        out[f"{prefix}jitter_ms"] = means.mean(2)
    return out


def links(acc: RoundAccumulator) -> Fields:
    """How many GNS3 links had conditions applied, and were suspended, at most during the round."""
    means = acc.readings.get(("links", None))
    if means is None:
        return {}
    return {"links_configured": int(means.max(0) or 0), "links_suspended": int(means.max(1) or 0)}


def counts(acc: RoundAccumulator) -> Fields:
    """Policy decisions, anomalies, topology and link configuration changes in the round (0 when none)."""
    names = ("policy_allowed", "policy_denied", "anomalies", "topology_changes", "link_config_changes")
    return {name: int(acc.counts.get(name, 0)) for name in names}
