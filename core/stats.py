"""Self-metrics: counters and status per component, readable in-process (``/health``) and emitted as records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .records import Metric, now_ns

#: Counter names every component has (zero until used), so dashboards and tests see a stable shape.
COUNTERS = (
    "collections", "errors", "timeouts", "overruns", "malformed",
    "records_in", "records_out", "dropped", "writes",
)
_NO_COUNTS = dict.fromkeys(COUNTERS, 0)


@attrs.define
class ComponentStats:
    """Counters and status of one component instance (a monitor, listener, processor or sink)."""

    kind: str
    instance: str
    plugin: str
    counters: Counter[str] = attrs.field(factory=Counter)
    status: str = "starting"  # starting | ok | down | error | stopped
    last_success_ns: int | None = None
    last_error: str | None = None
    last_error_ns: int | None = None
    consecutive_failures: int = 0
    last_duration_s: float = 0.0
    buffer_fill: int = 0
    buffer_size: int = 0
    extra: dict[str, Any] = attrs.field(factory=dict)
    #: Values read at the moment they are shown (a remote sink's backlog and the age of its oldest unsent record):
    #: merged into :meth:`snapshot`; the numeric ones are also :meth:`gauges`.
    live: Callable[[], Mapping[str, Any]] | None = None

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        self.counters[name] += n

    def success(self) -> None:
        """Record a successful operation."""
        self.status = "ok"
        self.last_success_ns = now_ns()
        self.consecutive_failures = 0

    def failure(self, error: str, status: str = "error") -> None:
        """Record a failed operation and why."""
        self.status = status
        self.last_error = error
        self.last_error_ns = now_ns()
        self.consecutive_failures += 1

    def snapshot(self) -> dict[str, Any]:
        """Return a JSON-ready view for ``/health``."""
        return {
            "kind": self.kind,
            "plugin": self.plugin,
            "status": self.status,
            "last_success_ns": self.last_success_ns,
            "last_error": self.last_error,
            "last_error_ns": self.last_error_ns,
            "consecutive_failures": self.consecutive_failures,
            "last_duration_s": self.last_duration_s,
            "buffer_fill": self.buffer_fill,
            "buffer_size": self.buffer_size,
            "counters": {**_NO_COUNTS, **self.counters},  # every name of COUNTERS first, then the others
            **self.extra,
            **(self.live() if self.live is not None else {}),
        }

    def gauges(self) -> dict[str, float | int]:
        """Point-in-time numbers (not counters): duration, buffer fill, up, and the numeric live values."""
        values: dict[str, float | int] = {
            "duration_s": self.last_duration_s,
            "buffer_fill": self.buffer_fill,
            "up": int(self.status == "ok"),
        }
        if self.live is not None:
            for name, value in self.live().items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    values[name] = value
        return values

    def to_metric(self) -> Metric:
        """Return these stats as a ``flcollector_<kind>`` metric, tagged with instance and plugin."""
        fields: dict[str, float | int] = {name: self.counters.get(name, 0) for name in COUNTERS}
        fields.update(self.counters)  # plugin-specific counters too
        fields.update(self.gauges())
        return Metric(
            name=f"flcollector_{self.kind}",
            fields=fields,
            tags={"instance": self.instance, "plugin": self.plugin},
            source="flcollector",
        )


@attrs.define
class StatsRegistry:
    """All component stats of one agent, keyed by ``(kind, instance)``."""

    items: dict[tuple[str, str], ComponentStats] = attrs.field(factory=dict)

    def register(self, kind: str, instance: str, plugin: str) -> ComponentStats:
        """Create (or return) the stats of one component instance."""
        key = (kind, instance)
        if key not in self.items:
            self.items[key] = ComponentStats(kind=kind, instance=instance, plugin=plugin)
        return self.items[key]

    def get(self, kind: str, instance: str) -> ComponentStats | None:
        """Return the stats of a component instance, or None."""
        return self.items.get((kind, instance))

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Return ``{"<kind>:<instance>": {...}}`` for every component."""
        return {f"{kind}:{instance}": s.snapshot() for (kind, instance), s in self.items.items()}

    def metrics(self) -> list[Metric]:
        """Return one self-metric per component."""
        return [s.to_metric() for s in self.items.values()]

    @property
    def dropped_total(self) -> int:
        """Every record dropped anywhere in the agent."""
        return sum(s.counters.get("dropped", 0) for s in self.items.values())
