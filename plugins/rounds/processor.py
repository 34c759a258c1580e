"""The ``rounds`` processor: every FL round next to the network it ran on, kept up to date as the round runs.

It reads the FL monitor's rounds and events, the SDN controller's ports, traffic and peers, the probes, the GNS3
links, policy decisions, anomalies and the core's outage events, and adds to the batch a ``fl_round_network`` row
per round (and one ``fl_round_client`` per FL client) whenever the round's figures are due (:mod:`.table`), plus a
``fl_experiment`` summary per experiment. At open it rebuilds what it needs from the store (:mod:`.replay`), and its
first batch carries an ``AGENT_STARTED`` event: the agent's version, its configuration (secrets masked) and hash,
and since when nothing was stored (the agent's own outage).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from flcollector import Event, Processor, Record, Runtime, now_ns

from .config_doc import config_hash, resolved_config
from .options import RoundsOptions
from .replay import rebuild
from .table import RoundTable

log = logging.getLogger("flcollector.processor.rounds")


class RoundsProcessor(Processor):
    """See the module docstring."""

    name: ClassVar[str] = "rounds"
    Options: ClassVar[type] = RoundsOptions

    def __init__(self, options: RoundsOptions, runtime: Runtime) -> None:
        super().__init__(options, runtime)
        self.table = RoundTable(options, self.monitor_intervals)
        self.started_ns = now_ns()
        self.previous_record_ns: int | None = None
        self._announced = False
        self._config: dict[str, Any] | None = None  # the agent's, once its components are open

    def monitor_intervals(self) -> dict[str, float]:
        """Each running monitor instance's collection interval in seconds (what coverage expects)."""
        agent = self.runtime.agent
        if agent is None:
            return {}
        return {m.runtime.instance: float(m.runtime.schedule.interval) for m in agent.components("monitor")}

    async def open(self) -> None:
        """Rebuild the live rounds from the store (when there is one) and learn since when nothing was stored."""
        agent = self.runtime.agent
        store = agent.store if agent is not None else None
        if store is None:
            return
        self.previous_record_ns = (await store.info()).get("newest_ns")
        replayed = await rebuild(self.table, store, self.previous_record_ns)
        self.table.experiments.started.clear()  # seen before this start: announced then, or never
        self.runtime.stats.extra["rounds"] = {"replayed": replayed}
        log.info("rounds: %d records read again from the store, %d rounds live", replayed, len(self.table.live))

    def process(self, batch: list[Record]) -> list[Record]:
        """Return ``batch`` plus the rows and summaries due (and, the first time, ``AGENT_STARTED``)."""
        extra: list[Record] = []
        if not self._announced:
            self._announced = True
            announcement = self._agent_started()
            self.table.read(announcement)
            extra.append(announcement)
        extra += self.table.feed(batch)
        started, self.table.experiments.started = self.table.experiments.started, []
        extra += [self._experiment_started(name) for name in started]
        stats = self.runtime.stats
        stats.extra["rounds"] = {
            **stats.extra.get("rounds", {}), "live": len(self.table.live), "waiting": len(self.table.pending),
            "late": self.table.late,
        }
        if extra:
            stats.count("rows", sum(1 for r in extra if getattr(r, "name", "") == "fl_round_network"))
        return [*batch, *extra] if extra else batch

    def _facts(self) -> dict[str, Any]:
        """The agent's version, configuration and its hash (read once: the components do not change)."""
        agent = self.runtime.agent
        if agent is None:
            return {}
        if self._config is None:
            self._config = resolved_config(agent)
        return {"version": agent.version, "config": self._config, "config_hash": config_hash(self._config)}

    def _experiment_started(self, experiment: str) -> Event:
        summary = self.table.experiments.book[experiment]
        details = {"experiment": experiment, "first_ns": summary.first_ns, **self._facts()}
        return Event(type="EXPERIMENT_STARTED", message=f"experiment {experiment} first seen", time_ns=summary.first_ns,
                     source="flcollector", details=details, experiment=experiment)

    def _agent_started(self) -> Event:
        context = self.runtime.context
        details: dict[str, Any] = {"started_ns": self.started_ns, "previous_record_ns": self.previous_record_ns,
                                   **self._facts()}
        gap = "" if self.previous_record_ns is None else (
            f"; nothing was stored for {(self.started_ns - self.previous_record_ns) / 1e9:.1f} s before")
        return Event(type="AGENT_STARTED", message=f"flcollector {details.get('version', '')} started{gap}",
                     time_ns=self.started_ns, source="flcollector", details=details,
                     experiment=context.experiment, round=context.round)
