"""The ``convergence`` processor: derives ``fl_convergence`` per FL round and says when training has converged.

It reads the FL monitor's ``fl_round`` metrics (accuracy and loss per round), keeps one training curve per
experiment, and adds to the batch:

* a ``fl_convergence`` metric per new round (deltas, rolling mean and slope, best so far, ``converged``);
* ``CONVERGENCE_DETECTED`` once per experiment, when the best accuracy of the last ``window`` rounds beats the best
  before them by less than ``tolerance``;
* ``PLATEAU`` when no new best accuracy came for ``patience`` rounds (again after each new best);
* ``DIVERGENCE`` when the loss rose ``divergence_rounds`` rounds in a row, or became NaN/infinite.

Each (experiment, round) is processed once: a round that arrives again is counted as ``duplicate_rounds``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import attrs
from flcollector import Event, Level, Metric, Processor, Record, option_doc

from .tracker import Curve, slope


def _number(value: Any) -> float | None:
    """Return ``value`` as a float if it is a real number (bools and strings are not), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an int beyond float range
        return None


class ConvergenceProcessor(Processor):
    """Turns the FL round metrics into convergence metrics and events."""

    name: ClassVar[str] = "convergence"

    @attrs.define
    class Options:
        """Options of ``[[processors.convergence]]``."""

        metric: str = attrs.field(default="fl_round", metadata=option_doc("the metric that holds one round's results"))
        accuracy_field: str = attrs.field(default="accuracy", metadata=option_doc("its accuracy field (0..1)"))
        loss_field: str = attrs.field(default="loss", metadata=option_doc("its loss field"))
        window: int = attrs.field(default=5, validator=attrs.validators.ge(2), metadata=option_doc(
            "rounds compared: converged when the best accuracy of the last `window` rounds beats the best before "
            "them by less than `tolerance`"))
        tolerance: float = attrs.field(default=0.005, validator=attrs.validators.ge(0), metadata=option_doc(
            "accuracy units (0.005 = half a percentage point)"))
        patience: int = attrs.field(default=10, validator=attrs.validators.ge(0), metadata=option_doc(
            "rounds without a new best accuracy before `PLATEAU` (0 disables)"))
        divergence_rounds: int = attrs.field(default=3, validator=attrs.validators.ge(0), metadata=option_doc(
            "consecutive rounds of rising loss before `DIVERGENCE` (0 disables)"))
        max_experiments: int = attrs.field(default=100, validator=attrs.validators.ge(1), metadata=option_doc(
            "training curves kept in memory; the oldest experiment is forgotten first"))

    def __init__(self, options: Any, runtime: Any) -> None:
        super().__init__(options, runtime)
        self._curves: dict[str | None, Curve] = {}

    def process(self, batch: list[Record]) -> list[Record]:
        """Return ``batch`` plus the derived metric and events of every new round in it."""
        wanted = self.options.metric
        derived: list[Record] = []
        for record in batch:
            if isinstance(record, Metric) and record.name == wanted:
                derived += self._round(record)
        return [*batch, *derived] if derived else batch

    def _curve(self, experiment: str | None) -> Curve:
        curve = self._curves.get(experiment)
        if curve is None:
            if len(self._curves) >= self.options.max_experiments:
                del self._curves[next(iter(self._curves))]  # forget the oldest experiment
            curve = self._curves[experiment] = Curve(window=self.options.window)
        return curve

    def _round(self, record: Metric) -> list[Record]:
        o = self.options
        round_ = record.round if record.round is not None else record.fields.get("round")
        if not isinstance(round_, int) or isinstance(round_, bool):
            self.runtime.stats.count("no_round")
            return []
        curve = self._curve(record.experiment)
        if round_ in curve.rounds_seen:
            self.runtime.stats.count("duplicate_rounds")
            return []
        accuracy = _number(record.fields.get(o.accuracy_field))
        loss = _number(record.fields.get(o.loss_field))
        bad_loss = loss if loss is not None and not math.isfinite(loss) else None
        if bad_loss is not None:
            loss = None  # a NaN would poison every later delta and mean
        if accuracy is not None and not math.isfinite(accuracy):
            accuracy = None
        fields = curve.add(round_, accuracy, loss)
        out: list[Record] = []
        if bad_loss is not None:
            out.append(self._event(record, "DIVERGENCE", "ERROR", f"loss is {bad_loss} in round {round_}", curve))
        improvement = curve.improvement()
        converged = improvement is not None and improvement < o.tolerance
        if curve.recent:
            recent = list(curve.recent)
            fields.update(
                accuracy_mean=sum(recent) / len(recent),
                accuracy_slope=slope(recent),
                best_accuracy=curve.best_accuracy,
                rounds_since_best=curve.rounds_since_best(),
            )
        if improvement is not None:
            fields["improvement"] = improvement
        fields["converged"] = converged
        out.insert(
            0,
            Metric(
                "fl_convergence",
                fields,
                time_ns=record.time_ns,
                tags=dict(record.tags),
                source=record.source,
                experiment=record.experiment,
                round=round_,
            ),
        )
        out += self._events(record, curve, improvement, converged)
        return out

    def _events(self, record: Metric, curve: Curve, improvement: float | None, converged: bool) -> list[Record]:
        o, out = self.options, list[Record]()
        if converged and not curve.converged_reported:
            curve.converged_reported = True
            out.append(
                self._event(
                    record,
                    "CONVERGENCE_DETECTED",
                    "INFO",
                    f"accuracy converged at {curve.best_accuracy:.4f} (round {curve.best_round}): the last {o.window} "
                    f"rounds improved it by {improvement:.4g} < {o.tolerance}",
                    curve,
                    improvement=improvement,
                )
            )
        since_best = curve.rounds_since_best()
        if since_best == 0:
            curve.plateau_reported = False
        elif o.patience and since_best >= o.patience and not curve.plateau_reported:
            curve.plateau_reported = True
            out.append(self._event(record, "PLATEAU", "INFO", f"no new best accuracy for {since_best} rounds", curve))
        if curve.rising_loss == 0:
            curve.diverging_reported = False
        elif o.divergence_rounds and curve.rising_loss >= o.divergence_rounds and not curve.diverging_reported:
            curve.diverging_reported = True
            out.append(
                self._event(
                    record, "DIVERGENCE", "WARNING", f"loss rose for {curve.rising_loss} rounds in a row", curve
                )
            )
        if out:
            self.runtime.stats.count("events", len(out))
        return out

    def _event(self, record: Metric, type_: str, level: Level, message: str, curve: Curve, **extra: Any) -> Event:
        best = curve.best_accuracy if curve.best_round is not None else None
        details = {
            "experiment": record.experiment,
            "round": curve.last_round,
            "rounds": curve.rounds,
            "best_accuracy": best,
            "best_round": curve.best_round,
            "accuracy": curve.last_accuracy,
            "loss": curve.last_loss,
            "window": self.options.window,
            "tolerance": self.options.tolerance,
            **extra,
        }
        return Event(
            type=type_,
            message=f"{record.experiment or 'experiment'}: {message}",
            level=level,
            time_ns=record.time_ns,
            source=record.source,
            details=details,
            experiment=record.experiment,
            round=curve.last_round,
        )
