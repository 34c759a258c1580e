"""Turning the records the round table needs into samples (see :mod:`.accumulator` for their shape).

Volumes: a switch port's bytes are deltas of its cumulative ``rx_bytes`` / ``tx_bytes`` (``flcollector.
CounterTracker``: a counter reset counts what moved since, and after an agent restart the first delta spans the
downtime, so no byte is lost; the first reading of a port uses the monitor's own delta, its rate times its
interval, as the monitor's flow deltas start there too); its packets, drops and errors are the controller's rates
times their interval (the ``sdn`` monitor gives no cumulative packet counters). ``sdn_traffic``, the FL server's
rules of ``sdn_traffic_rule`` and ``sdn_fl_peer`` are volumes over the interval they carry. Readings: the port
rates, the controller's latency and loss (``network``), the probes, and per GNS3 poll the configured conditions of
the paths that matter (the collector to the FL server and to every probed node, each client to the FL server).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flcollector import CounterTracker, Event, Metric, Record

from .accumulator import Sample
from .paths import LinkGraph
from .sites import Port, Sites

NAN = float("nan")
CLIENT_ID = ("client_id", "client", "cid", "node")  # the tag naming the client of an fl_client record
CLIENT_TIME = ("training_time_s", "training_time", "duration_s", "fit_duration_s", "duration")  # its training time
#: SDN events that change the topology
TOPOLOGY_EVENTS = frozenset({"NODE_CONNECTED", "NODE_DISCONNECTED", "LINK_ADDED", "LINK_REMOVED"})


def number(fields: Mapping[str, Any], key: str, default: float = NAN) -> float:
    """``fields[key]`` as a float when it is a real number, else ``default``."""
    value = fields.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def client_time(m: Metric) -> tuple[str, float] | None:
    """``(client, training seconds)`` of an ``fl_client`` record a client pushed for a round, or None."""
    client = next((m.tags[k] for k in CLIENT_ID if m.tags.get(k)), None)
    seconds = next((v for k in CLIENT_TIME if (v := number(m.fields, k)) == v), None)
    return (client, seconds) if client is not None and seconds is not None and m.round is not None else None


def _before(time_ns: int, seconds: float) -> int:
    return time_ns - int(seconds * 1e9)


class Intake:
    """Reads records into samples; keeps the port counter baselines and the pending GNS3 poll."""

    def __init__(self, sites: Sites, options: Any) -> None:
        self.sites = sites
        self.options = options
        self.fl_rules = frozenset(options.fl_server_rules)
        self.counters: CounterTracker[Port] = CounterTracker()
        self.probed: set[str] = set()  # nodes the probes reach
        self._traffic_interval: tuple[int, float] | None = None  # (time_ns, interval_s) of the last sdn_traffic
        self._gns3_poll: list[Metric] = []
        self._metrics: dict[str, Callable[[Metric], list[Sample]]] = {
            "sdn_port": self._port,
            "sdn_traffic": self._traffic,
            "sdn_traffic_rule": self._rule,
            "sdn_fl_peer": self._peer,
            "network": self._network,
            "probe_tcp": self._probe,
        }

    def read(self, record: Record) -> list[Sample]:
        """The samples of one record (none for a record the round table does not use)."""
        if isinstance(record, Metric):
            if record.name == "gns3_link":
                out = self.flush() if self._gns3_poll and self._gns3_poll[0].time_ns != record.time_ns else []
                self._gns3_poll.append(record)
                return out
            handler = self._metrics.get(record.name)
            return handler(record) if handler is not None else []
        return self._event(record)

    def flush(self) -> list[Sample]:
        """The configured-path samples of the GNS3 poll read so far (call at the end of a batch)."""
        if not self._gns3_poll:
            return []
        poll, self._gns3_poll = self._gns3_poll, []
        graph, at = LinkGraph(poll), poll[0].time_ns
        o = self.options
        out: list[Sample] = [(at, at, "links", None, (float(graph.configured), float(graph.suspended)))]
        clients = {node for node in [*self.sites.nodes, *graph.neighbours] if self.sites.is_client(node)}
        wanted = [(f"probe:{node}", o.collector_node, node) for node in {o.fl_server_node, *self.probed}]
        wanted += [(f"client:{node}", node, o.fl_server_node) for node in clients]
        for key, source, target in wanted:
            path = graph.path(source, target)
            if path is not None:
                out.append((at, at, "configured", key, (path.rtt_added_ms, path.loss_roundtrip_pct, path.jitter_ms)))
        return out

    def _port(self, m: Metric) -> list[Sample]:
        key = (m.tags.get("switch", ""), m.tags.get("port", ""))
        f, t = m.fields, m.time_ns
        out: list[Sample] = [(t, t, "rate", key, (number(f, "rx_bps"), number(f, "tx_bps")))]
        interval = number(f, "interval_s")
        since = _before(t, interval) if interval > 0 else t
        packets: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)
        if interval > 0:
            packets = (*(number(f, name, 0.0) * interval for name in ("rx_pps", "tx_pps", "rx_drops_ps",
                                                                      "tx_drops_ps")),
                       (number(f, "rx_errors_ps", 0.0) + number(f, "tx_errors_ps", 0.0)) * interval)
        counters = {"rx": number(f, "rx_bytes"), "tx": number(f, "tx_bytes")}
        delta = self.counters.update(key, counters, t) if all(v == v for v in counters.values()) else None
        if delta is not None and abs(t - int(delta.elapsed) - since) < 1000:  # the usual case: one interval
            out.append((since, t, "port", key, (delta.deltas["rx"], delta.deltas["tx"], *packets)))
            return out
        if interval > 0:
            out.append((since, t, "port", key, (0.0, 0.0, *packets)))
        if delta is not None:  # from our last reading: spans what the monitor skipped (a reset, an agent restart)
            out.append((t - int(delta.elapsed), t, "port", key, (delta.deltas["rx"], delta.deltas["tx"], 0.0, 0.0,
                                                                 0.0, 0.0, 0.0)))
        elif interval > 0:  # the first reading we see: the monitor's own delta, its rate over its interval
            out.append((since, t, "port", key, (number(f, "rx_bps", 0.0) * interval / 8,
                                                number(f, "tx_bps", 0.0) * interval / 8, 0.0, 0.0, 0.0, 0.0, 0.0)))
        return out

    def _traffic(self, m: Metric) -> list[Sample]:
        interval = number(m.fields, "interval_s")
        if not interval > 0:
            return []
        self._traffic_interval = (m.time_ns, interval)
        names = ("fl_bytes", "control_bytes", "background_bytes", "fl_packets", "control_packets",
                 "background_packets")
        return [(_before(m.time_ns, interval), m.time_ns, "traffic", None,
                 tuple(number(m.fields, name, 0.0) for name in names))]

    def _rule(self, m: Metric) -> list[Sample]:
        known = self._traffic_interval
        if m.tags.get("rule") not in self.fl_rules or known is None or known[0] != m.time_ns:
            return []
        values = (number(m.fields, "bytes", 0.0), number(m.fields, "packets", 0.0))
        return [(_before(m.time_ns, known[1]), m.time_ns, "rule", "fl_server", values)]

    def _peer(self, m: Metric) -> list[Sample]:
        interval = number(m.fields, "interval_s")
        if not interval > 0 or not m.tags.get("peer"):
            return []
        names = ("bytes_to_server", "bytes_from_server", "packets_to_server", "packets_from_server")
        values = tuple(number(m.fields, name, 0.0) for name in names)
        return [(_before(m.time_ns, interval), m.time_ns, "peer", m.tags["peer"].lower(), values)]

    def _network(self, m: Metric) -> list[Sample]:
        if m.source != "sdn_controller":
            return []
        values = (number(m.fields, "latency_avg_ms"), number(m.fields, "packet_loss_percent"))
        return [(m.time_ns, m.time_ns, "controller", None, values)]

    def _probe(self, m: Metric) -> list[Sample]:
        target = m.tags.get("target", "")
        node = self.sites.probe_node(target, m.tags.get("label"))
        if node is not None:
            self.probed.add(node)
        f = m.fields
        values = (number(f, "rtt_avg_ms"), number(f, "jitter_ms"), number(f, "loss_percent"), number(f, "rtt_min_ms"))
        return [(m.time_ns, m.time_ns, "probe", node or target, values)]

    def _event(self, e: Event) -> list[Sample]:
        t = e.time_ns
        if e.type == "POLICY_DECISION":
            allowed = e.details.get("result")
            if not isinstance(allowed, bool):
                allowed = str(e.details.get("decision", "")).lower() == "allow"
            return [(t, t, "count", "policy_allowed" if allowed else "policy_denied", (1.0,))]
        if e.type == "ANOMALY_DETECTED":
            return [(t, t, "count", "anomalies", (1.0,))]
        if e.type in TOPOLOGY_EVENTS:
            return [(t, t, "count", "topology_changes", (1.0,))]
        if e.type == "LINK_CONFIG_CHANGED":
            return [(t, t, "count", "link_config_changes", (1.0,))]
        if e.type == "TOPOLOGY_SNAPSHOT" and isinstance(e.details.get("hosts"), list):
            self.sites.learn_hosts(e.details["hosts"])
        return []
