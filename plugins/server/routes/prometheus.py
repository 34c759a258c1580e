"""``GET /metrics``: Prometheus text exposition of the agent's self-metrics and the latest value of every series.

Data series are named ``flcollector_<name>_<field>`` (sanitised), labelled with ``source``, ``experiment`` and
their tags; a series not updated within ``prometheus_expiry`` (a client that left) disappears. Self-metrics are
``flcollector_<kind>_<counter>_total`` counters and ``flcollector_<kind>_<gauge>`` gauges (``up``, ``duration_s``,
``buffer_fill`` and the live values of ``ComponentStats.gauges()``, e.g. a remote sink's ``backlog_records``,
``backlog_bytes`` and ``oldest_unsent_age_s``), labelled with ``instance`` and ``plugin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from flcollector import COUNTERS, Metric, StatsRegistry, now_ns
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric as PromMetric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..state import state_of

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_BAD = re.compile(r"[^a-zA-Z0-9_]")


def sanitize(name: str) -> str:
    """Return a valid Prometheus metric or label name (invalid characters become ``_``)."""
    clean = _BAD.sub("_", name)
    return f"_{clean}" if clean[:1].isdigit() else clean


def _labels(metric: Metric) -> dict[str, str]:
    labels = {"source": metric.source, "experiment": metric.experiment or ""}
    for key, value in metric.tags.items():
        label = sanitize(key)
        if label in labels or label.startswith("__"):
            label = f"tag_{label.lstrip('_')}"
        labels[label] = str(value)
    return labels


class AgentCollector(Collector):
    """Yields the self-metrics of ``stats`` and the latest numeric fields of ``series`` newer than ``cutoff_ns``."""

    def __init__(
        self, stats: StatsRegistry, series: Iterable[Metric], cutoff_ns: int, uptime_s: float, version: str
    ) -> None:
        self.stats = stats
        self.series = series
        self.cutoff_ns = cutoff_ns
        self.uptime_s = uptime_s
        self.version = version

    def collect(self) -> Iterator[PromMetric]:
        """Yield every metric family."""
        yield GaugeMetricFamily("flcollector_uptime_seconds", "Seconds since the agent started.", value=self.uptime_s)
        info = GaugeMetricFamily("flcollector_build_info", "The agent's version.", labels=["version"])
        info.add_metric([self.version], 1)
        yield info
        yield from self._self_metrics()
        yield from self._series()

    def _self_metrics(self) -> Iterator[PromMetric]:
        counters: dict[str, CounterMetricFamily] = {}
        gauges: dict[str, GaugeMetricFamily] = {}
        for stats in self.stats.items.values():
            labels = [stats.instance, stats.plugin]
            kind = sanitize(stats.kind)
            for name in sorted(set(COUNTERS) | set(stats.counters)):
                family = f"flcollector_{kind}_{sanitize(name)}"
                if family not in counters:
                    counters[family] = CounterMetricFamily(
                        family, f"{name} of each {kind}.", labels=["instance", "plugin"]
                    )
                counters[family].add_metric(labels, stats.counters.get(name, 0))
            # up, duration_s, buffer_fill, and what a component reads live (a remote sink's backlog and the age of
            # its oldest unsent record): the same gauges as its self-metric record
            for name, value in stats.gauges().items():
                family = f"flcollector_{kind}_{sanitize(name)}"
                if family not in gauges:
                    gauges[family] = GaugeMetricFamily(family, f"{name} of each {kind}.", labels=["instance", "plugin"])
                gauges[family].add_metric(labels, float(value))
        yield from counters.values()
        yield from gauges.values()

    def _series(self) -> Iterator[PromMetric]:
        families: dict[str, PromMetric] = {}
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        for metric in self.series:
            if metric.time_ns < self.cutoff_ns or metric.name.startswith("flcollector_"):
                continue  # expired, or a stored copy of the self-metrics exposed live above
            labels = _labels(metric)
            key_labels = tuple(sorted(labels.items()))
            for field, value in metric.fields.items():
                if isinstance(value, str):
                    continue
                family = f"flcollector_{sanitize(metric.name)}_{sanitize(field)}"
                if (family, key_labels) in seen:
                    continue
                seen.add((family, key_labels))
                if family not in families:
                    families[family] = PromMetric(family, f"{metric.name}.{field}", "gauge")
                families[family].add_sample(family, labels, float(value))
        yield from families.values()


async def metrics(request: Request) -> Response:
    """Prometheus text exposition (scrape this)."""
    server = state_of(request)
    agent = server.agent
    store = agent.store
    series = await store.latest_metrics() if store is not None else []
    cutoff = now_ns() - int(float(server.options.prometheus_expiry) * 1e9)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AgentCollector(agent.stats, series, cutoff, (now_ns() - agent.started_ns) / 1e9, agent.version))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)


ROUTES = [Route("/metrics", metrics, methods=["GET"])]
