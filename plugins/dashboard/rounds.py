"""The FL rounds as the dashboard reads them, from the stored ``fl_round`` metrics (one per completed round).

Upstream scanned the newest 100-200 rows of *every* metric type for ``fl_round_<N>`` rows, so rounds vanished from
the charts minutes after training stopped (§5 #12), and ``/api/metrics/fl/rounds`` proxied the FL server. Here the
rounds are selected by name from the store, so they stay as long as the store keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from weakref import WeakKeyDictionary

import attrs
from flcollector import Metric, MetricQuery
from flcollector.plugins.server.params import Params
from flcollector.plugins.server.summaries import ROUND_DURATION, pick

from .contract import iso, plain, unless_all
from .data import SCAN_LIMIT, DataView, number


@attrs.frozen
class RoundFilter:
    """Which rounds to read: experiment (None: every one), round range and time range."""

    experiment: str | None = None
    min_round: int | None = None
    max_round: int | None = None
    start_ns: int | None = None
    end_ns: int | None = None

    def query(self) -> MetricQuery:
        """The ``fl_round`` metrics these rounds are read from: the newest :data:`~.data.SCAN_LIMIT` of them."""
        return MetricQuery(
            names=["fl_round"],
            experiment=self.experiment,
            min_round=self.min_round,
            max_round=self.max_round,
            start_ns=self.start_ns,
            end_ns=self.end_ns,
            limit=SCAN_LIMIT,
            order="desc",
        )


def experiment_param(params: Params, view: DataView) -> str | None:
    """The experiment whose rounds to show: ``?experiment=`` (``*`` for all), else the current run's.

    Defaulting to the current experiment keeps round numbers unique when the FL server starts a new run.
    """
    given = params.text("experiment")
    return unless_all(given) if given is not None else view.agent.context.experiment


async def load_rounds(view: DataView, where: RoundFilter) -> list[Metric]:
    """Return one ``fl_round`` metric per round number (the newest stored wins), ascending by round."""
    by_round: dict[int, Metric] = {}
    for metric in await view.metrics(where.query()):
        if metric.round is not None and metric.round not in by_round:
            by_round[metric.round] = metric
    return [by_round[n] for n in sorted(by_round)]


@attrs.frozen
class Completion:
    """When training ended: the ``fl_server`` snapshot's verdict, its ``max_rounds``, and the last stored round."""

    complete: bool = False
    max_rounds: int | None = None
    last_round: int = 0

    def round_complete(self, round_: int) -> bool:
        """Whether training was complete once round ``round_`` finished."""
        if self.max_rounds and round_ >= self.max_rounds:
            return True
        return self.complete and round_ >= self.last_round


async def completion(view: DataView, experiment: str | None) -> Completion:
    """Read :class:`Completion` from the latest ``fl_server`` metric and the newest ``fl_round`` of ``experiment``."""
    newest = await view.metrics(MetricQuery(names=["fl_round"], experiment=experiment, limit=1, order="desc"))
    last_round = newest[0].round or 0 if newest else 0
    server = await view.latest_metric("fl_server")
    if server is None:
        return Completion(last_round=last_round)
    max_rounds = server.fields.get("max_rounds")
    return Completion(
        bool(server.fields.get("training_complete")),
        int(max_rounds) if isinstance(max_rounds, int | float) and max_rounds > 0 else None,
        last_round,
    )


def _clients(fields: Mapping[str, Any]) -> tuple[int, int]:
    """Return ``(participants, selected)`` of a round."""
    selected = int(number(fields.get("clients_selected", fields.get("clients_total"))))
    succeeded = int(number(fields.get("clients_succeeded", fields.get("clients")), selected))
    return succeeded, max(selected, succeeded)


def round_item(metric: Metric, complete: bool) -> dict[str, Any]:
    """The detailed round item of ``/api/metrics/fl/rounds`` (every field the dashboard reads)."""
    fields = metric.fields
    participants, selected = _clients(fields)
    duration = pick(fields, ROUND_DURATION)
    return {
        "round": metric.round,
        "timestamp": iso(metric.time_ns),
        "status": str(fields.get("status", "complete")),
        "accuracy": number(fields.get("accuracy")),
        "loss": number(fields.get("loss")),
        "training_duration": number(duration),
        "model_size_mb": number(fields.get("model_size_mb")),
        "clients": participants,
        "clients_connected": participants,
        "connected_clients": participants,
        "clients_total": selected,
        "successful_clients": participants,
        "failed_clients": int(number(fields.get("clients_failed"))),
        "aggregation_duration": number(fields.get("aggregation_duration_s")),
        "evaluation_duration": number(fields.get("evaluation_duration_s")),
        "training_complete": complete,
        "data_source": "collector",
        "experiment": metric.experiment,
        "raw_metrics": plain(fields),
    }


#: Round items built, per view: by the metric object's id, the metric (so the id stays its own) and its items by
#: shape and completeness. Emptied when it holds more metrics than a few pages have.
_BUILT: WeakKeyDictionary[DataView, dict[int, tuple[Metric, dict[tuple[str, bool], dict[str, Any]]]]]
_BUILT = WeakKeyDictionary()
MAX_BUILT = 500


def shaped_rounds(
    view: DataView, shape: str, rounds: list[Metric], done: Completion, build: Callable[[Metric, bool], dict[str, Any]]
) -> list[dict[str, Any]]:
    """``build(round, complete)`` of each round, built once per metric object, shape and completeness.

    The sqlite store hands out the same metric object for a stored row while it keeps the rows of its round pages
    (until retention deletes rows), so a dashboard polling a page, even one that moved on by a new round, builds
    only the new rounds' items. The items are shared: callers must not change them.
    """
    built = _BUILT.get(view)
    if built is None or len(built) > MAX_BUILT:
        built = _BUILT[view] = {}
    items = []
    for metric in rounds:
        complete = done.round_complete(metric.round or 0)
        kept = built.get(id(metric))
        if kept is None or kept[0] is not metric:
            kept = built[id(metric)] = (metric, {})
        item = kept[1].get((shape, complete))
        if item is None:
            item = kept[1][shape, complete] = build(metric, complete)
        items.append(item)
    return items


def fl_item(metric: Metric, complete: bool, include_raw: bool) -> dict[str, Any]:
    """One ``/api/metrics/fl`` item (upstream's consolidated per-round shape)."""
    full = round_item(metric, complete)
    item = {
        key: full[key]
        for key in (
            "timestamp",
            "round",
            "status",
            "clients_connected",
            "clients_total",
            "accuracy",
            "loss",
            "training_complete",
            "training_duration",
            "model_size_mb",
            "experiment",
        )
    }
    item.update(data_state="training_complete" if complete else "training", source="individual_round")
    if include_raw:
        item["raw_metrics"] = full["raw_metrics"]
    return item


def summary_item(metric: Metric, complete: bool) -> dict[str, Any]:
    """One ``/api/metrics/fl/summary`` round (the shape the dashboard prefers when this route exists)."""
    full = round_item(metric, complete)
    return {
        "round": full["round"],
        "timestamp": full["timestamp"],
        "accuracy": full["accuracy"],
        "loss": full["loss"],
        "clients_count": full["clients"],
        "training_complete": complete,
        "model_size_mb": full["model_size_mb"],
        "status": full["status"],
    }


def training_summary(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Upstream's ``training_summary`` (only when some accuracy is above 0)."""
    accuracies = [item["accuracy"] for item in items]
    if not any(a > 0 for a in accuracies):
        return None
    rounds = [item["round"] for item in items]
    return {
        "total_rounds": len(items),
        "completed_rounds": sum(1 for item in items if item["status"] in ("complete", "completed")),
        "best_accuracy": max(accuracies),
        "latest_accuracy": accuracies[-1],
        "accuracy_improvement": accuracies[-1] - accuracies[0],
        "round_range": {"min": min(rounds), "max": max(rounds)},
    }
