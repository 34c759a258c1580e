"""What an export or a report reads: the spec's component names mapped onto our records, and aggregation.

The spec's export request names ``components`` (``fl_metrics``, ``network_metrics``, ``policy_events``...);
:data:`COMPONENTS` is the one table mapping each onto our metric names and event sources or types. Our own metric
names are accepted beside them. :func:`parse_aggregation` reads ``raw``, ``1m``, ``5m``, ``1h`` or any duration.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from .durations import Duration
from .store import Aggregation, Selection


@attrs.frozen
class Component:
    """The records one component name stands for: metric names or name prefixes, event sources or types."""

    metrics: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    event_sources: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()


_FL_METRICS = Component(metrics=("fl_round", "fl_client", "fl_server", "fl_convergence"))
_FL_EVENTS = Component(event_sources=("fl_server",))
_NETWORK_METRICS = Component(metrics=("network", "sdn_port", "sdn_flows"), prefixes=("probe_",))
_NETWORK_EVENTS = Component(event_sources=("sdn_controller",))
_POLICY_METRICS = Component(metrics=("decision_count", "policy_count", "policy_compliance"))
_POLICY_EVENTS = Component(event_sources=("policy_engine",))
_SYSTEM_METRICS = Component(prefixes=("system_",))
_ANOMALIES = Component(event_types=("ANOMALY_DETECTED",))
_AGENT_EVENTS = Component(event_types=("SOURCE_UNREACHABLE", "SOURCE_RECOVERED", "MALFORMED_RESPONSE",
                                       "ENDPOINT_ERROR", "PLUGIN_ERROR"))
#: the round table (the rounds plugin) and what its experiment manifests are built from (plugins/rounds/manifest.py)
_ROUNDS = Component(metrics=("fl_round_network", "fl_round_client", "fl_experiment"),
                    event_types=("EXPERIMENT_STARTED", "AGENT_STARTED", "SOURCE_UNREACHABLE", "SOURCE_RECOVERED",
                                 "GNS3_PROJECT_SNAPSHOT", "LINK_CONFIG_CHANGED", "SERVER_START", "FL_RUN_RESTARTED"))


def _both(*parts: Component) -> Component:
    return Component(*(tuple(v for p in parts for v in getattr(p, f.name)) for f in attrs.fields(Component)))


#: The one table of component names (the spec's, and the short forms of its default ``["fl", "network", "policy"]``).
COMPONENTS: dict[str, Component] = {
    "fl_metrics": _FL_METRICS,
    "fl_events": _FL_EVENTS,
    "network_metrics": _NETWORK_METRICS,
    "network_events": _NETWORK_EVENTS,
    "policy_metrics": _POLICY_METRICS,
    "policy_events": _POLICY_EVENTS,
    "system_metrics": _SYSTEM_METRICS,
    "anomalies": _ANOMALIES,
    "alerts": _ANOMALIES,
    "agent_metrics": Component(prefixes=("flcollector_",)),
    "agent_events": _AGENT_EVENTS,
    "events": Component(event_types=("*",)),  # every event
    "rounds": _ROUNDS,
    "fl": _both(_FL_METRICS, _FL_EVENTS),
    "network": _both(_NETWORK_METRICS, _NETWORK_EVENTS),
    "policy": _both(_POLICY_METRICS, _POLICY_EVENTS),
    "system": _SYSTEM_METRICS,
}

#: Field keys that are cumulative counters: aggregated as their rate per second, not their mean. Besides these,
#: every key ending in ``_total`` (the Prometheus convention that ``system_net`` and ``system_diskio`` follow).
COUNTER_FIELDS = frozenset({
    "rx_bytes", "tx_bytes",  # sdn_port
    "packets", "bytes",  # sdn_flows (sums of the flows' counters)
    "allowed", "denied",  # decision_count
    "collections", "errors", "timeouts", "overruns", "malformed", "records_in", "records_out", "dropped",
    "writes",  # the agent's own flcollector_* metrics
})


class SelectionError(ValueError):
    """A request names something unknown or malformed; ``field`` is the request field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def counters_of(keys: Iterable[str]) -> frozenset[str]:
    """Return the keys among ``keys`` that are counters (see :data:`COUNTER_FIELDS`)."""
    return frozenset(k for k in keys if k in COUNTER_FIELDS or k.endswith("_total"))


def parse_aggregation(text: str | None) -> int | None:
    """Return the bucket in nanoseconds for ``1m``, ``5m``, ``1h``, ``90s``...; None for ``raw`` (or empty)."""
    value = (text or "raw").strip().lower()
    if value == "raw":
        return None
    try:
        seconds = float(Duration.parse(value))
    except ValueError:
        raise SelectionError("aggregation", f"aggregation must be 'raw' or a duration like '1m', '5m', '1h', "
                                            f"got {text!r}") from None
    if seconds < 1:
        raise SelectionError("aggregation", f"aggregation buckets must be at least 1s, got {text!r}")
    return int(seconds * 1e9)


def aggregation_for(bucket_ns: int | None, field_keys: Iterable[str]) -> Aggregation | None:
    """Return the Aggregation of ``bucket_ns`` with the counters among ``field_keys``, or None for raw."""
    return None if bucket_ns is None else Aggregation(bucket_ns, counters_of(field_keys))


def build_selection(
    components: Sequence[str] | None,
    known_metrics: Sequence[str],
    *,
    experiment: str | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> Selection:
    """Map component names (and our metric names) onto a Selection; None means every record.

    Raises :class:`SelectionError` (field ``components``) for a name that is neither a component nor a stored
    metric, or for an empty list.
    """
    if start_ns is not None and end_ns is not None and start_ns > end_ns:
        raise SelectionError("start_time", "start_time is after end_time")
    if components is None:
        return Selection(experiment=experiment, start_ns=start_ns, end_ns=end_ns)
    if not components:
        raise SelectionError("components", "components is empty: name at least one, e.g. 'fl_metrics'")
    names: set[str] = set()
    sources: set[str] = set()
    types: set[str] = set()
    every_event = False
    for item in components:
        component = COMPONENTS.get(item)
        if component is None:
            if item not in known_metrics:
                raise SelectionError(
                    "components",
                    f"components: unknown {item!r}; use one of {', '.join(COMPONENTS)} or a stored metric name",
                )
            names.add(item)
            continue
        names.update(component.metrics)
        names.update(n for n in known_metrics if n.startswith(component.prefixes) and component.prefixes)
        sources.update(component.event_sources)
        every_event = every_event or "*" in component.event_types
        types.update(t for t in component.event_types if t != "*")
    return Selection(
        metric_names=tuple(sorted(names)),
        event_sources=None if every_event else tuple(sorted(sources)),
        event_types=None if every_event else tuple(sorted(types)),
        experiment=experiment,
        start_ns=start_ns,
        end_ns=end_ns,
    )
