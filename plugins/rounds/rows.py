"""A round's records: the ``fl_round_network`` row and one ``fl_round_client`` per FL client (see PLUGINS.md)."""

from __future__ import annotations

from typing import Any

import attrs
from flcollector import Metric

from . import sections
from .accumulator import RoundAccumulator
from .compare import Finding, compare
from .sites import Sites
from .timeline import Window

ROW = "fl_round_network"
CLIENT = "fl_round_client"
SOURCE = "rounds"


@attrs.define
class RoundInputs:
    """What a round's records are built from."""

    window: Window
    acc: RoundAccumulator
    training: dict[str, Any] | None = None  # the fl_round fields
    client_times: dict[str, float] = attrs.Factory(dict)  # client -> training time (s), from fl_client
    coverage: dict[str, float] = attrs.Factory(dict)  # monitor -> 0-1
    baseline_rtt_ms: float | None = None  # fastest probe RTT to the FL server in recent rounds with nothing configured


def build(inputs: RoundInputs, sites: Sites, options: Any, updated_ns: int) -> tuple[Metric, list[Metric]]:
    """The row and the client records of one round (the row's time is the round's start)."""
    window, acc = inputs.window, inputs.acc
    end = window.end_ns if window.end_ns is not None else max(acc.last_ns or window.start_ns, window.start_ns)
    fields: dict[str, Any] = {
        "start_ns": window.start_ns,
        "window_s": (end - window.start_ns) / 1e9,
        "complete": window.final,
        "updated_ns": updated_ns,
    }
    if window.end_ns is not None:
        fields["end_ns"] = window.end_ns
    fields.update(sections.training(inputs.training, inputs.client_times, options.straggler_factor))
    fields.update(sections.ports(acc, options.link_capacity_mbps))
    fields.update(sections.traffic(acc))
    fields.update(sections.controller(acc))
    fields.update(sections.probe(acc, options.fl_server_node))
    fields.update(sections.configured(acc, f"probe:{options.fl_server_node}"))
    fields.update(sections.links(acc))
    fields.update(sections.counts(acc))
    clients = _clients(inputs, sites, options)
    fields.update(_attribution(acc, sites, clients, fields))
    fields.update(_observed_against_configured(inputs, sites, options, fields))
    if inputs.coverage:
        fields.update({f"coverage_{monitor}": value for monitor, value in sorted(inputs.coverage.items())})
        fields["coverage_min"] = min(inputs.coverage.values())
    def metric(name: str, values: dict[str, Any], tags: dict[str, str]) -> Metric:
        return Metric(name, values, tags=tags, time_ns=window.start_ns, source=SOURCE, experiment=window.experiment,
                      round=window.round)

    return metric(ROW, fields, {}), [metric(CLIENT, values, {"client": n}) for n, values in sorted(clients.items())]


def _clients(inputs: RoundInputs, sites: Sites, options: Any) -> dict[str, dict[str, Any]]:
    """Per FL client: bytes and packets to and from the FL server, its switch port, its path, its time."""
    acc, out = inputs.acc, {}
    peers = acc.volumes["peer"]
    names = {sites.node_of(address) or address: address for address in peers}
    paths = {key.split(":", 1)[1] for kind, key in acc.readings if kind == "configured" and key.startswith("client:")}
    late = sections.stragglers(inputs.client_times, options.straggler_factor) if inputs.client_times else set()
    ports = {node for node in sites.nodes if sites.is_client(node) and sites.port_of(node) in acc.volumes["port"]}
    for client in sorted({*names, *paths, *inputs.client_times, *ports}):
        if not sites.is_client(client):
            continue
        values: dict[str, Any] = {}
        if client in names:
            to_b, from_b, to_p, from_p = peers[names[client]]
            values.update(bytes_to_server=to_b, bytes_from_server=from_b, packets_to_server=to_p,
                          packets_from_server=from_p, address=names[client])
        port = acc.volumes["port"].get(sites.port_of(client))
        if port is not None:
            values.update(port_rx_bytes=port[0], port_tx_bytes=port[1])  # rx: what the client sent
            if port[0] > 0 and "bytes_to_server" in values:
                values["to_server_share_pct"] = 100.0 * values["bytes_to_server"] / port[0]
            if port[1] > 0 and "bytes_from_server" in values:
                values["from_server_share_pct"] = 100.0 * values["bytes_from_server"] / port[1]
        values.update(sections.configured(acc, f"client:{client}"))
        if client in inputs.client_times:
            values.update(training_time_s=inputs.client_times[client], straggler=client in late)
        out[client] = values
    return out


def _attribution(acc: RoundAccumulator, sites: Sites, clients: dict[str, dict[str, Any]],
                 row: dict[str, Any]) -> dict[str, Any]:
    """How much of the FL server's FL traffic the clients' bytes account for, and the overhead per client."""
    out: dict[str, Any] = {}
    attributed = sum(c.get("bytes_to_server", 0.0) + c.get("bytes_from_server", 0.0) for c in clients.values())
    participating = sum(1 for c in clients.values() if c.get("bytes_to_server", 0) or c.get("bytes_from_server", 0))
    server = acc.volumes["rule"].get("fl_server")
    if acc.volumes["peer"]:
        everyone = acc.total("peer", 0) + acc.total("peer", 1)
        out.update(attributed_bytes=attributed, other_peer_bytes=everyone - attributed,
                   clients_participating=participating)
    if server is not None:
        out["fl_server_bytes"] = server[0]
        if server[0] > 0 and acc.volumes["peer"]:
            out["attributed_pct"] = 100.0 * attributed / server[0]
    if participating and "fl_bytes" in row:
        out["fl_bytes_per_client"] = row["fl_bytes"] / participating
        out["overhead_bytes_per_client"] = (row["control_bytes"] + row["background_bytes"]) / participating
    return out


def _observed_against_configured(inputs: RoundInputs, sites: Sites, options: Any,
                                 row: dict[str, Any]) -> dict[str, Any]:
    """Observed added RTT and loss next to the configured ones, and whether they disagree (:mod:`.compare`)."""
    out: dict[str, Any] = {}
    baseline, rtt = inputs.baseline_rtt_ms, row.get("rtt_min_ms")
    if baseline is not None:
        out["baseline_rtt_ms"] = baseline
        if rtt is not None:
            out["observed_rtt_added_ms"] = max(0.0, rtt - baseline)  # faster than the baseline is no added delay
    port_loss = sections.port_loss_pct(inputs.acc, sites.port_of(options.fl_server_node))
    if port_loss is not None:
        out["fl_server_port_loss_pct"] = port_loss
    observed_loss = port_loss if port_loss is not None else row.get("probe_loss_pct")
    if observed_loss is not None:
        out["observed_loss_roundtrip_pct"] = observed_loss
    tolerance = options.mismatch_tolerance
    findings: list[tuple[Finding, str]] = []
    latency = compare("latency", row.get("configured_rtt_added_ms"), out.get("observed_rtt_added_ms"), tolerance,
                      options.latency_floor_ms)
    loss = compare("loss", row.get("configured_loss_roundtrip_pct"), observed_loss, tolerance, options.loss_floor_pct)
    for finding, unit, name in ((latency, "ms", "mismatch_latency"), (loss, "%", "mismatch_loss")):
        if finding is not None:
            out[name] = finding.disagrees
            if finding.disagrees:
                findings.append((finding, unit))
    if latency is not None or loss is not None:
        out["mismatch"] = bool(findings)
        out["mismatch_detail"] = "; ".join(f.line(unit) for f, unit in findings)
    return out


def clean_rtt(row: Metric) -> float | None:
    """The row's fastest probe RTT when nothing was configured on the path all round (a baseline for later)."""
    configured = row.fields.get("configured_rtt_added_max_ms", 0.0)
    rtt = row.fields.get("rtt_min_ms")
    return float(rtt) if isinstance(rtt, int | float) and not configured else None
