"""What the FLOPY-NET dashboard backend reads from each collector route, and what it does with each value.

Taken from the dashboard's code (repository ``abdulmeLINK/flopy-net``, ``dashboard/backend/app``): every call it makes
through ``services/collector_client.py`` (``CollectorApiClient``), and in the endpoint that makes it, every key it
reads from our answer with the operation it applies. Each :class:`Call` cites the file and function; each
:class:`Read` names a path in our answer and the operation:

====================  ==========================================================================================
op                    what the dashboard does with the value, so what it must be
====================  ==========================================================================================
``dict``              ``.get()`` / ``in`` / item assignment on it: a JSON object
``list``              iterates it, sorts it, indexes ``[0]``: a JSON array
``len``               ``len()``: an array, object or string (``flows_per_switch`` was a float: 500)
``number``            arithmetic or a comparison (``> 0``, ``* 100``, ``// 2``, ``round()``, ``max()``): a number
``int``/``float``     ``int()`` / ``float()``: a number (``None`` raises ``TypeError``)
``str``               ``.lower()``, ``.startswith()``, ``== "success"``: a string
``bool``              a flag it passes on or tests (``training_complete``): a boolean
``time``              ``isinstance(x, (int, float))`` → ``fromtimestamp``, else used as text: a string or a number
``number?``           tested with ``isinstance(x, (int, float))`` before use, or passed through: a number or null
``present``           tested with ``in`` only, or passed through as is: any value, but the key must be there
====================  ==========================================================================================

A path is dotted keys; ``x[]`` applies the rest to every element of the array ``x``, ``x[0]`` to its first.
``forbid`` lists top-level keys whose presence changes the dashboard's path (``error``: it takes the failure path).
Most keys are read with ``.get(key, default)``, so before any data a missing one is tolerated; a read marked
``needed`` is made with ``body[key]`` or ``key in body`` and must always be there. With data, every key must be.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

#: The dashboard's httpx client always sends these (``CollectorApiClient.__init__``).
DASHBOARD_AUTH = ("admin", "securepassword")

_NUMBER = (int, float)


def _number(value: Any) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool)


OPS: dict[str, Any] = {
    "dict": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "len": lambda v: isinstance(v, list | dict | str),
    "number": _number,
    "int": _number,
    "float": _number,
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "time": lambda v: isinstance(v, str) or _number(v),
    "number?": lambda v: v is None or _number(v),
    "present": lambda v: True,
}
#: Ops under which a null is what the dashboard expects before any data (nowhere else may a value be null once the
#: collector has data: see :func:`violations`).
NULLABLE_OPS = frozenset({"number?", "present"})


@attrs.frozen
class Read:
    """One value the dashboard reads: where it is in our answer, and what it does with it."""

    path: str
    op: str
    nullable: bool = False  # null even with data (a figure the sources never give), as the dashboard tolerates
    needed: bool = False  # read with body[key] or `key in body`: missing is a failure even before any data


@attrs.frozen
class Call:
    """One request the dashboard makes, where its code makes it, and what it reads from the answer."""

    name: str
    path: str
    params: Mapping[str, str]
    cite: str
    reads: tuple[Read, ...]
    method: str = "GET"
    forbid: tuple[str, ...] = ("error",)


def R(path: str, op: str, *, nullable: bool = False, needed: bool = False) -> Read:
    """Shorthand for :class:`Read`."""
    return Read(path, op, nullable, needed)


def _round_rows(prefix: str) -> tuple[Read, ...]:
    """The keys every FL metrics/rounds row is read for (``fl_monitoring.py``)."""
    return (
        R(f"{prefix}.timestamp", "time"),
        R(f"{prefix}.round", "number"),
        R(f"{prefix}.accuracy", "number"),
        R(f"{prefix}.loss", "number"),
        R(f"{prefix}.clients_connected", "int"),
        R(f"{prefix}.clients_total", "number"),
        R(f"{prefix}.training_complete", "bool"),
        R(f"{prefix}.model_size_mb", "float"),
        R(f"{prefix}.status", "str"),
    )


E = "dashboard/backend/app/api/endpoints/"

CALLS: tuple[Call, ...] = (
    Call(
        "probe",
        "/api/metrics/latest",
        {},
        "dashboard/backend/app/main.py: test_connection_with_retry (HEAD, status must be 200)",
        (),
        method="HEAD",
        forbid=(),
    ),
    Call(
        "health",
        "/health",
        {},
        "dashboard/backend/app/services/collector_client.py: test_connection ('error' not in health); "
        f"{E}fl_monitoring.py: debug_collector_client",
        (R("status", "str"),),
    ),
    Call(
        "latest_fl_server",
        "/api/metrics/latest",
        {"type": "fl_server"},
        f"{E}overview.py: get_fl_status (last fallback); {E}metrics_explorer.py: test_metrics_connection",
        (
            R("accuracy", "number?"),
            R("clients_connected", "number"),
            R("connected_clients", "number"),
            R("round", "number"),
            R("current_round", "number"),
            R("status", "str"),
            R("loss", "number?"),
            R("latest_loss", "number?"),
        ),
    ),
    Call(
        "latest_network",
        "/api/metrics/latest",
        {"type": "network"},
        f"{E}overview.py: get_network_status (LatestMetricResponse: status == 'success', metrics truthy, else 502)",
        (
            R("status", "str"),
            R("timestamp", "str"),
            R("metrics", "dict", needed=True),
            R("metrics.data", "dict"),
            R("metrics.data.topology", "dict"),
            R("metrics.data.topology.hosts", "list"),
            R("metrics.data.topology.links", "list"),
            R("metrics.data.topology.switches", "list"),
            R("metrics.data.topology.nodes", "list"),
            R("metrics.data.topology.nodes[]", "dict"),
            R("metrics.data.topology.nodes[].type", "str"),
            R("metrics.data.switches_count", "number"),
            R("metrics.data.hosts_count", "number"),
            R("metrics.data.links_count", "number"),
            R("metrics.data.packet_loss_percent", "number"),
            R("metrics.data.sdn_status", "str"),
            R("metrics.data.performance_metrics", "dict"),
            R("metrics.data.performance_metrics.latency", "dict"),
            R("metrics.data.performance_metrics.latency.average_ms", "number"),
            R("metrics.data.performance_metrics.bandwidth", "dict"),
            R("metrics.data.performance_metrics.bandwidth.total_mbps", "number"),
            R("metrics.data.performance_metrics.bandwidth.active_ports", "number"),
            R("metrics.data.performance_metrics.flows", "dict"),
            R("metrics.data.performance_metrics.flows.total", "number"),
        ),
    ),
    Call(
        "metrics_sample",
        "/api/metrics",
        {"limit": "100"},
        f"{E}metrics_explorer.py: get_metric_types, get_metric_components, test_metrics_connection; "
        "dashboard/backend/app/main.py: test_metrics_endpoints",
        (
            R("metrics", "len", needed=True),
            R("metrics[]", "dict"),
            R("metrics[].metric_type", "str"),
            R("metrics[].data", "dict"),
            R("metrics[].source_component", "str"),
        ),
    ),
    Call(
        "metrics_query",
        "/api/metrics",
        {"metric_type": "policy_count", "source_component": "POLICY_ENGINE", "limit": "100"},
        f"{E}metrics_explorer.py: query_metrics (keeps a row when data.source_component equals the filter; the "
        "first number in data is its value)",
        (
            R("metrics", "list", needed=True),
            R("metrics[].timestamp", "str"),
            R("metrics[].metric_type", "str"),
            R("metrics[].data", "dict"),
            R("metrics[].data.source_component", "str"),
        ),
    ),
    Call(
        "policy_timeseries",
        "/api/metrics",
        {"type": "decision_count", "limit": "500"},
        f"{E}policy.py: get_policy_metrics_timeseries (data.copy(), sorted by data.timestamp)",
        (
            R("metrics", "list", needed=True),
            R("metrics[].data", "dict"),
            R("metrics[].data.timestamp", "str", needed=True),
            R("metrics[].data.allowed", "number"),
            R("metrics[].data.denied", "number"),
            R("metrics[].data.total", "number"),
            R("metrics[].metric_type", "str"),
        ),
    ),
    Call(
        "fl_summary",
        "/api/metrics/fl/summary",
        {"include_summary": "true", "limit": "100"},
        f"{E}fl_monitoring.py: get_fl_metrics (the optimized path; collector_client.get_fl_summary_fast)",
        (
            R("rounds", "list", needed=True),
            R("rounds[].timestamp", "time"),
            R("rounds[].round", "number"),
            R("rounds[].accuracy", "number"),
            R("rounds[].loss", "number"),
            R("rounds[].clients_count", "number"),
            R("rounds[].training_complete", "bool"),
            R("rounds[].model_size_mb", "number"),
            R("rounds[].status", "str"),
        ),
    ),
    Call(
        "fl_metrics",
        "/api/metrics/fl",
        {"limit": "100", "optimize": "true", "use_cache": "true", "consolidate_rounds": "true"},
        f"{E}fl_monitoring.py: get_fl_metrics (fallback: int(clients_connected), float(model_size_mb))",
        (R("metrics", "list", needed=True), *_round_rows("metrics[]")),
    ),
    Call(
        "fl_window",
        "/api/metrics/fl",
        {"limit": "600", "include_raw": "false"},
        f"{E}fl_monitoring.py: get_fl_metrics_window, get_fl_metrics_paginated (limit=1500), get_fl_metrics_summary "
        "(limit=200): accuracy * 100 if <= 1, round(loss, 4), model_size_mb > 0, data_state",
        (R("metrics", "list", needed=True), *_round_rows("metrics[]"), R("metrics[].data_state", "str")),
    ),
    Call(
        "fl_status",
        "/api/metrics/fl/status",
        {},
        f"{E}overview.py: get_fl_status; {E}fl_monitoring.py: get_latest_fl_status, get_fl_training_status "
        "(an 'error' key sends the overview to its fallbacks)",
        (
            R("training_active", "bool"),
            R("training_complete", "bool"),
            R("fl_server_available", "bool"),
            R("current_round", "number"),
            R("connected_clients", "number"),
            R("latest_accuracy", "number?"),
            R("latest_loss", "number?"),
            R("max_rounds", "number?"),
            R("timestamp", "time"),
            R("start_time", "present"),
            R("model_size_mb", "number"),
            R("data_source", "str"),
            R("collector_monitoring", "bool"),
            R("stopped_by_policy", "bool"),
        ),
    ),
    Call(
        "fl_rounds_latest",
        "/api/metrics/fl/rounds",
        {"limit": "1", "sort_order": "desc"},
        f"{E}overview.py: get_fl_status (fallback, rounds[0]); {E}fl_monitoring.py: get_latest_fl_status "
        "(rounds[0].model_size_mb)",
        (
            R("rounds", "list", needed=True),
            R("rounds[0].clients_connected", "number"),
            R("rounds[0].clients", "number"),
            R("rounds[0].clients_total", "number"),
            R("rounds[0].training_complete", "bool"),
            R("rounds[0].round", "number"),
            R("rounds[0].accuracy", "number?"),
            R("rounds[0].loss", "number?"),
            R("rounds[0].model_size_mb", "number"),
        ),
    ),
    Call(
        "fl_rounds",
        "/api/metrics/fl/rounds",
        {"limit": "1000"},
        f"{E}fl_monitoring.py: get_fl_rounds_enhanced (collector_client.get_fl_rounds)",
        (
            R("rounds", "list"),
            R("latest_round", "number"),
            *_round_rows("rounds[]"),
            R("rounds[].training_duration", "number?"),
            R("rounds[].successful_clients", "number?"),
            R("rounds[].failed_clients", "number?"),
            R("rounds[].aggregation_duration", "number?"),
            R("rounds[].evaluation_duration", "number?"),
            R("rounds[].data_source", "str"),
        ),
    ),
    Call(
        "fl_config",
        "/api/metrics/fl/config",
        {},
        f"{E}fl_monitoring.py: get_fl_configuration (an 'error' key is a 502)",
        (
            R("fl_server", "dict"),
            R("policy_engine", "dict"),
            R("training_parameters", "dict"),
            R("model_config", "dict"),
            R("federation_config", "dict"),
            R("metadata", "dict"),
            R("metadata.config_completeness", "present"),
            R("status", "str"),
            R("data_sources", "list"),
        ),
    ),
    Call(
        "events_log",
        "/api/events",
        {"limit": "20", "offset": "0"},
        f"{E}events.py: get_events_log (passthrough to the Events page)",
        (
            R("events", "list", needed=True),
            R("events[]", "dict"),
            R("events[].id", "number"),
            R("events[].timestamp", "str"),
            R("events[].source_component", "str"),
            R("events[].component", "str"),
            R("events[].event_type", "str"),
            R("events[].level", "str"),
            R("events[].message", "str"),
            R("events[].details", "dict"),
            R("total", "number"),
            R("limit", "number"),
            R("offset", "number"),
        ),
    ),
    Call(
        "events_feed",
        "/api/events",
        {"limit": "100"},
        f"{E}logs.py: events_websocket (needs timestamp and source_component; max(event['id']) is the since_id "
        f"cursor); {E}overview.py: get_events_summary (fallback: total, events[].level.lower())",
        (
            R("events", "list", needed=True),
            R("events[].id", "number"),
            R("events[].timestamp", "str", needed=True),
            R("events[].source_component", "str", needed=True),
            R("events[].event_type", "str"),
            R("events[].level", "str"),
            R("events[].details", "present"),
            R("total", "number"),
        ),
    ),
    Call(
        "events_summary",
        "/api/events/summary",
        {},
        f"{E}overview.py: get_events_summary (by_level.get('ERROR', 0) + ...); {E}events.py: get_events_summary",
        (
            R("total", "number", needed=True),
            R("by_level", "dict"),
            R("by_level.ERROR", "number"),
            R("by_level.WARNING", "number"),
            R("by_level.INFO", "number"),
            R("by_level.DEBUG", "number"),
            R("by_component", "dict"),
        ),
    ),
    Call(
        "topology",
        "/api/network/topology",
        {"source": "all", "include_metrics": "true", "format": "detailed"},
        f"{E}network.py: get_active_network_topology",
        (
            R("project_info", "dict"),
            R("project_info.id", "str"),
            R("project_info.name", "str"),
            R("nodes", "list"),
            R("links", "list"),
            R("switches", "list"),
            R("hosts", "list"),
            R("statistics", "dict"),
            R("statistics.total_nodes", "number"),
            R("statistics.total_links", "number"),
            R("statistics.total_switches", "number"),
            R("statistics.total_hosts", "number"),
            R("collection_time", "present"),
            R("metrics", "dict"),
        ),
    ),
    Call(
        "topology_live",
        "/api/network/topology/live",
        {},
        f"{E}network.py: get_live_network_topology, get_network_hosts, get_network_switches, get_network_links, "
        f"get_network_statistics, get_network_flows; {E}topology_websocket.py: topology_websocket",
        (
            R("topology", "dict"),
            R("topology.nodes", "len"),
            R("topology.links", "list"),
            R("topology.links[]", "dict"),
            R("topology.switches", "list"),
            R("topology.switches[]", "dict"),
            R("topology.switches[].dpid", "present"),
            R("topology.switches[].ports", "list"),
            R("topology.switches[].ports[]", "dict"),
            R("topology.switches[].ports[].state", "present"),
            R("topology.hosts", "list"),
            R("topology.hosts[]", "dict"),
            R("statistics", "dict"),
            R("timestamp", "time"),
            R("source", "str"),
        ),
    ),
    Call(
        "flows",
        "/api/network/flows",
        {},
        f"{E}network.py: get_network_flows (summary['policy_flows'] = [...], priority > 100); "
        f"{E}overview.py: get_network_status (summary.total_flows)",
        (
            R("flows", "list"),
            R("flows[]", "dict"),
            R("flows[].switch_dpid", "str"),
            R("flows[].priority", "number"),
            R("summary", "dict"),
            R("summary.total_flows", "number"),
            R("summary.switches_with_flows", "number"),
        ),
    ),
    Call(
        "performance",
        "/api/performance/metrics",
        {},
        f"{E}network.py: get_network_performance_metrics (x > 0 and x / 1e6, totals // 2, latency < 50), "
        "get_network_metrics_data (passthrough)",
        (
            R("bandwidth", "dict"),
            R("bandwidth.current_total_bps", "number"),
            R("bandwidth.current_average_bps", "number"),
            R("bandwidth.peak_bandwidth_bps", "number"),
            R("latency", "dict"),
            R("latency.average_ms", "number"),
            R("latency.min_ms", "number"),
            R("latency.max_ms", "number"),
            R("flows", "dict"),
            R("flows.total", "number"),
            R("flows.active", "number"),
            R("flows.per_switch_average", "present"),
            R("ports", "dict"),
            R("ports.total", "number"),
            R("ports.up", "number"),
            R("ports.errors", "number"),
            R("totals", "dict"),
            R("totals.packets_transferred", "number"),
            R("totals.bytes_transferred", "number"),
            R("totals.total_errors", "number"),
            R("totals.uptime_seconds", "number"),
            R("rates", "dict"),
            R("rates.packets_per_second", "number"),
            R("rates.bytes_per_second", "number"),
            R("rates.flows_per_hour", "number"),
            R("health_score", "number"),
            R("network_health", "dict"),
            R("network_health.score", "number"),
            R("network_health.status", "str"),
            R("network_health.factors", "dict"),
            R("timestamp", "time"),
        ),
    ),
    Call(
        "flow_statistics",
        "/api/flows/statistics",
        {},
        f"{E}network.py: get_flow_statistics (len(flows_per_switch) is the switch count; total - active)",
        (
            R("flow_statistics", "dict"),
            R("flow_statistics.total_flows", "number"),
            R("flow_statistics.active_flows", "number"),
            R("flow_statistics.flows_per_switch", "len"),
            R("flow_statistics.priority_distribution", "dict"),
            R("flow_statistics.table_distribution", "dict"),
            R("flow_statistics.flows", "present"),
            R("utilization_metrics", "dict"),
            R("utilization_metrics.efficiency_percentage", "number"),
            R("utilization_metrics.efficiency_rating", "str"),
            R("collection_timestamp", "time"),
        ),
    ),
)
"""Every call the dashboard backend makes to the collector, with what it reads (reference §1.3, from the code)."""

_MISSING = object()


def _walk(value: Any, parts: list[str], where: str) -> list[tuple[str, Any]]:
    """The values at ``parts`` below ``value``: ``(path, value)``, with ``_MISSING`` where a key is absent."""
    if not parts:
        return [(where, value)]
    head, rest = parts[0], parts[1:]
    key, _, index = head.partition("[")
    if key:
        if not isinstance(value, dict):
            return [(where, _MISSING)]
        value = value.get(key, _MISSING)
        where = f"{where}.{key}" if where else key
        if value is _MISSING:
            return [(where, _MISSING)]
    if not index:
        return _walk(value, rest, where)
    if not isinstance(value, list):
        return [(f"{where}[]", _MISSING)]
    if index == "]":
        return [found for i, item in enumerate(value) for found in _walk(item, rest, f"{where}[{i}]")]
    position = int(index.rstrip("]"))
    return _walk(value[position], rest, f"{where}[{position}]") if position < len(value) else []


def violations(call: Call, body: Any, *, with_data: bool) -> list[str]:
    """Every read of ``call`` that the dashboard's code would trip on in ``body``; ``with_data`` also refuses a null
    (nothing may be null that the collector has data for) and an empty array the dashboard iterates."""
    found: list[str] = []
    for key in call.forbid:
        if isinstance(body, dict) and key in body:
            found.append(f"{call.name}: top-level {key!r} present: {body[key]!r}")
    for read in call.reads:
        parts = read.path.split(".")
        for index, part in enumerate(parts):  # with data, an array the reads go into must hold something to check
            if with_data and part.endswith(("[]", "[0]")):
                container = _walk(body, [*parts[:index], part.partition("[")[0]], "")
                if any(isinstance(v, list) and not v for _, v in container):
                    found.append(f"{call.name}: {'.'.join([*parts[:index], part])} is empty, nothing to read")
        for where, value in _walk(body, parts, ""):
            if value is _MISSING:
                if with_data or read.needed:
                    found.append(f"{call.name}: {where or '<body>'} missing ({read.op})")
            elif value is None and (read.op in NULLABLE_OPS or read.nullable):
                if with_data and not read.nullable:
                    found.append(f"{call.name}: {where} is null although the collector has data ({read.op})")
            elif not OPS[read.op](value):
                found.append(f"{call.name}: {where} = {value!r:.80} is not what {read.op!r} needs")
    return list(dict.fromkeys(found))
