"""The round table as a state machine: records in, rows out, no I/O (the processor feeds it, so do the tests).

Records become samples (:mod:`.intake`) that wait until the timeline is determined up to their time (:mod:`.timeline`),
then go, split by time, into their rounds' accumulators. A running round's row is emitted every ``update_interval``
(with the samples still waiting, provisionally); a round that ended becomes final once records ``settle`` newer than
its end arrived, and its row is emitted one last time with ``complete = true``. Each batch costs what it brings:
nothing here walks the history (the timeline keeps a bounded number of windows, only the live rounds are visited).
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from flcollector import Event, Metric, Record

from .accumulator import VOLUMES, RoundAccumulator, Sample
from .coverage import OUTAGE_EVENTS, Coverage
from .experiments import EXPERIMENT, Experiments
from .intake import Intake, client_time
from .levels import Levels
from .options import FLOPYNET_NODE_IPS
from .rows import CLIENT, ROW, RoundInputs, build, clean_rtt
from .sites import Sites
from .timeline import Timeline, Window

BASELINE_ROUNDS = 5  # the RTT baseline is the median of this many latest clean rounds
OWN = frozenset({ROW, CLIENT, EXPERIMENT})


class RoundTable:
    """See the module docstring. ``monitors()`` gives each monitor instance's interval (for coverage)."""

    def __init__(self, options: Any, monitors: Callable[[], dict[str, float]]) -> None:
        self.options = options
        self.monitors = monitors
        self.sites = Sites({**FLOPYNET_NODE_IPS, **options.node_ips}, options.client_prefix)
        self.intake = Intake(self.sites, options)
        self.timeline = Timeline()
        self.coverage = Coverage()
        self.experiments = Experiments()
        self.live: dict[Window, RoundAccumulator] = {}  # windows not yet final, in the order they appeared
        self.training: dict[Window, dict[str, Any]] = {}
        self.client_times: dict[tuple[str | None, int | None], dict[str, float]] = {}
        self.emitted: dict[Window, int] = {}
        self.pending: list[Sample] = []
        self.levels = Levels()  # the latest GNS3 readings, for rounds that saw no poll
        self.newest_ns: int | None = None
        self.clean_rtts: deque[float] = deque(maxlen=BASELINE_ROUNDS)  # fastest RTTs of rounds without conditions
        self.late = 0  # sample shares that arrived for a round already final
        self._placed_to: int | None = None  # samples up to this time are placed
        self._oldest_new: int | None = None  # the oldest time among the samples added since

    # -- reading ---------------------------------------------------------------------------------------------------

    def feed(self, batch: Iterable[Record]) -> list[Metric]:
        """Read a batch and return the rows (and experiment summaries) due now."""
        for record in batch:
            self.read(record)
        self._wait(self.intake.flush())
        self.place()
        return self.due()

    def read(self, record: Record) -> None:
        """Take one record (no row is built here)."""
        if isinstance(record, Metric) and record.name in OWN:
            return
        window = self.timeline.read(record)
        if window is not None:
            self._window(window)
            if isinstance(record, Metric) and not window.final:  # an fl_round: the training columns
                self.training[window] = dict(record.fields)
        elif isinstance(record, Metric) and record.name == "fl_server":
            self._now(record.time_ns)
            self.experiments.state(record.experiment, record.fields.get("state"), record.time_ns)
        elif isinstance(record, Metric) and record.name == "fl_client" and (timed := client_time(record)):
            self.client_times.setdefault((record.experiment, record.round), {})[timed[0]] = timed[1]
        elif isinstance(record, Event) and record.type in OUTAGE_EVENTS:
            self.coverage.read(record)
        samples = self.intake.read(record)
        if samples:
            self._wait(samples)

    def _wait(self, samples: list[Sample]) -> None:
        if not samples:
            return
        for sample in samples:
            self.levels.note(sample)
        self.pending += samples
        oldest, newest = min(s[1] for s in samples), max(s[1] for s in samples)
        self._oldest_new = oldest if self._oldest_new is None else min(oldest, self._oldest_new)
        self._now(newest)

    def _now(self, time_ns: int) -> None:
        if self.newest_ns is None or time_ns > self.newest_ns:
            self.newest_ns = time_ns

    def _window(self, window: Window) -> Window:
        if not window.final and window not in self.live:
            self.live[window] = RoundAccumulator()
        self.experiments.seen(window.experiment, window.start_ns)
        if window.end_ns is not None:
            self.experiments.seen(window.experiment, window.end_ns)
        return window

    # -- placing ---------------------------------------------------------------------------------------------------

    def place(self) -> None:
        """Put every waiting sample whose time the timeline has determined into its rounds."""
        determined = self.timeline.determined_ns
        o = self.options
        forced: int | None = None  # samples older than this go now: nothing will place them better
        if self.newest_ns is not None and self.timeline.running() is None:
            forced = self.newest_ns - int(o.max_hold * 1e9)
        if len(self.pending) > o.max_pending:
            forced = max(forced or 0, sorted(s[1] for s in self.pending)[len(self.pending) - o.max_pending // 2])
        limit = max(determined or 0, forced or 0)
        fresh = self._oldest_new is not None and self._oldest_new <= limit
        if not self.pending or limit == 0 or (limit == self._placed_to and not fresh):
            return
        self._placed_to, self._oldest_new = limit, None
        keep = []
        for sample in self.pending:
            t0, t1, kind, key, values = sample
            if t1 <= limit:
                self._add(sample)
            elif t0 < limit and kind in VOLUMES:  # the part up to the limit is placed for good; the rest waits
                done = (limit - t0) / (t1 - t0)
                self._add((t0, limit, kind, key, tuple(v * done for v in values)))
                keep.append((limit, t1, kind, key, tuple(v * (1 - done) for v in values)))
            else:
                keep.append(sample)
        self.pending = keep

    def _add(self, sample: Sample) -> None:
        for window, share in self.timeline.place(sample[0], sample[1]):
            if window is None:
                if sample[2] == "rule":
                    latest = self.timeline.windows[-1].experiment if self.timeline.windows else None
                    self.experiments.between_rounds(latest, sample[4][0] * share, sample[1])
            elif window.final:
                self.late += 1
            else:
                acc = self.live.get(window)
                if acc is None:
                    self._window(window)
                    acc = self.live[window]
                acc.add(sample, share)

    # -- emitting --------------------------------------------------------------------------------------------------

    def due(self) -> list[Metric]:
        """Rows of rounds that became final, and of running rounds not emitted for ``update_interval``."""
        now = self.newest_ns
        if now is None:
            return []
        o, out = self.options, []
        settle, every = int(o.settle * 1e9), int(o.update_interval * 1e9)
        for window in list(self.live):
            if window.end_ns is not None and now >= window.end_ns + settle:
                window.final = True
                out += self._rows(window, self.live.pop(window), now)
                self._forget(window)
            elif now - self.emitted.get(window, now - every) >= every:
                out += self._rows(window, self._provisional(window), now)
        if self.live:
            self.coverage.prune(min(w.start_ns for w in self.live))
        return out + self.experiments.due(now, every)

    def _provisional(self, window: Window) -> RoundAccumulator:
        """The window's accumulator, plus (while it runs) the samples still waiting that fall in it."""
        acc = self.live[window]
        if window.end_ns is not None or not self.pending:
            return acc
        view = acc.copy()
        for sample in self.pending:
            t0, t1 = sample[0], sample[1]
            share = 1.0 if t1 <= t0 else window.overlap(t0, t1) / (t1 - t0)
            if (share > 0 and t1 > t0) or (t1 <= t0 and window.contains(t1)):
                view.add(sample, share)
        return view

    def _rows(self, window: Window, acc: RoundAccumulator, now: int) -> list[Metric]:
        self.emitted[window] = now
        acc = self.levels.in_force(window.start_ns, acc)
        end = window.end_ns if window.end_ns is not None else max(acc.last_ns or window.start_ns, window.start_ns)
        inputs = RoundInputs(
            window, acc, self.training.get(window), self.client_times.get((window.experiment, window.round), {}),
            self.coverage.of(self.monitors(), window.start_ns, end),
            statistics.median(self.clean_rtts) if self.clean_rtts else None,
        )
        row, clients = build(inputs, self.sites, self.options, now)
        if window.final:
            self.experiments.round_final(row)
            rtt = clean_rtt(row)
            if rtt is not None:
                self.clean_rtts.append(rtt)
        return [row, *clients]

    def _forget(self, window: Window) -> None:
        self.training.pop(window, None)
        self.emitted.pop(window, None)
        self.client_times.pop((window.experiment, window.round), None)
