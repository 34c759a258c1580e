"""flcollector: a plugin-based monitoring agent for federated-learning experiments.

A plugin author needs nothing from deeper modules::

    from flcollector import hookimpl, Monitor, Metric, Event
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .components import Component, Exporter, Listener, Monitor, Processor, Runtime, Schedule, Send, Sink
from .context import RunContext
from .counters import CounterDelta, CounterTracker
from .durations import Duration
from .errors import (
    ConfigError,
    MalformedResponse,
    PluginError,
    RecordsRejected,
    SourceUnavailable,
    StartupError,
    StorageError,
)
from .export_tables import ExportSource, ExportTable, field_column, iso_time
from .hookspecs import hookimpl, hookspec
from .httpclient import HttpClient
from .limits import MAX_ROUND, MAX_TIME_NS, InvalidRecord, check_record, split_valid
from .options import NoOptions, OptionDoc, option_doc
from .receipts import Receipt
from .records import LEVELS, Event, Level, Metric, Record, now_ns, record_from_dict, record_to_dict
from .redact import MASK, mask_secrets, masked
from .remote import AXES, RemoteOptions, RemoteRejected, RemoteSink, RemoteUnavailable, check_axes
from .remote_http import HttpRemoteSink, HttpTarget, auth_headers, check_response, gzip_body
from .source_names import SOURCE_COMPONENTS, component_name, source_name
from .sources import NOT_FOUND, EndpointError, SeenIds, endpoint_error_event, gather_endpoints, get_json, settle
from .stats import COUNTERS, ComponentStats, StatsRegistry
from .store import (
    Aggregation,
    BulkStore,
    EventQuery,
    FoldingStore,
    MetricFold,
    MetricQuery,
    Selection,
    Store,
    VersionedStore,
    fold_metrics,
    implements,
    metrics_version,
)
from .summary import FieldStats, SeriesSummary, SummaryStore, summarize
from .view import AgentView, Configured, agent_of

try:
    __version__ = version("flcollector")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = [
    "AXES",
    "COUNTERS",
    "LEVELS",
    "MASK",
    "MAX_ROUND",
    "MAX_TIME_NS",
    "NOT_FOUND",
    "SOURCE_COMPONENTS",
    "AgentView",
    "Aggregation",
    "BulkStore",
    "Component",
    "ComponentStats",
    "ConfigError",
    "Configured",
    "CounterDelta",
    "CounterTracker",
    "Duration",
    "EndpointError",
    "Event",
    "EventQuery",
    "ExportSource",
    "ExportTable",
    "Exporter",
    "FieldStats",
    "FoldingStore",
    "HttpClient",
    "HttpRemoteSink",
    "HttpTarget",
    "InvalidRecord",
    "Level",
    "Listener",
    "MalformedResponse",
    "Metric",
    "MetricFold",
    "MetricQuery",
    "Monitor",
    "NoOptions",
    "OptionDoc",
    "PluginError",
    "Processor",
    "Receipt",
    "Record",
    "RecordsRejected",
    "RemoteOptions",
    "RemoteRejected",
    "RemoteSink",
    "RemoteUnavailable",
    "RunContext",
    "Runtime",
    "Schedule",
    "SeenIds",
    "Selection",
    "Send",
    "SeriesSummary",
    "Sink",
    "SourceUnavailable",
    "StartupError",
    "StatsRegistry",
    "StorageError",
    "Store",
    "SummaryStore",
    "VersionedStore",
    "__version__",
    "agent_of",
    "auth_headers",
    "check_axes",
    "check_record",
    "check_response",
    "component_name",
    "endpoint_error_event",
    "field_column",
    "fold_metrics",
    "gather_endpoints",
    "get_json",
    "gzip_body",
    "hookimpl",
    "hookspec",
    "implements",
    "iso_time",
    "mask_secrets",
    "masked",
    "metrics_version",
    "now_ns",
    "option_doc",
    "record_from_dict",
    "record_to_dict",
    "settle",
    "source_name",
    "split_valid",
    "summarize",
]
