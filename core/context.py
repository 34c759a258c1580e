"""The run context: which experiment, round and phase the FL system is in right now.

The FL monitor updates it; the pipeline stamps it onto every record that lacks ``experiment`` or ``round``, so a
CPU sample or a port counter taken during round 7 says round 7.
"""

from __future__ import annotations

import logging

import attrs

from .records import Event, Metric, Record

log = logging.getLogger("flcollector.context")
#: The largest round the context takes (the same bound every record's round is held to, flcollector.limits).
_MAX_ROUND = 2**31 - 1


@attrs.define
class RunContext:
    """Mutable, process-wide state of the experiment being observed."""

    experiment: str | None = None
    round: int | None = None
    phase: str | None = None

    def update(self, *, experiment: str | None = None, round: int | None = None, phase: str | None = None) -> None:
        """Set any of the given values; ``None`` leaves a value unchanged. A round that is not an integer in
        ``[0, 2**31 - 1]`` (or an experiment that is not a string) is ignored with a warning: it is stamped on every
        record, so one bad value from a source must not make every record unstorable."""
        if experiment is not None:
            if isinstance(experiment, str):
                self.experiment = experiment
            else:
                log.warning("run context: experiment %r ignored (not a string)", experiment)
        if round is not None:
            if type(round) is int and 0 <= round <= _MAX_ROUND:
                self.round = round
            else:
                log.warning("run context: round %r ignored (not an integer in [0, %d])", round, _MAX_ROUND)
        if phase is not None:
            self.phase = phase

    def stamp(self, batch: list[Record]) -> list[Record]:
        """Return ``batch`` with experiment and round filled in where a record left them ``None``."""
        experiment, round_ = self.experiment, self.round
        if experiment is None and round_ is None:
            return batch
        out: list[Record] = []
        for record in batch:
            missing_exp = record.experiment is None and experiment is not None
            missing_round = record.round is None and round_ is not None
            if missing_exp or missing_round:
                record = attrs.evolve(
                    record,
                    experiment=experiment if missing_exp else record.experiment,
                    round=round_ if missing_round else record.round,
                )
            out.append(record)
        return out


__all__ = ["Event", "Metric", "RunContext"]
