"""One emulated Flower round, with the figures FLOPY-NET's ``MetricsTrackingStrategy`` derives from it.

Upstream (``src/fl/server/fl_server.py``): ``configure_fit`` stamps ``round_start_time`` and logs ``ROUND_STARTED``;
``aggregate_fit`` times the aggregation and logs ``AGGREGATION_COMPLETED`` with the clients' training durations
(no client ids: Flower's results are anonymous there); ``aggregate_evaluate`` computes the accuracy as the
examples-weighted mean of the clients' accuracies, stores the round row, then logs ``EVALUATION_COMPLETED`` and
``ROUND_COMPLETED`` (the evaluation details plus ``phase_breakdown``). The row's ``raw_metrics`` hold
``phase_durations``, ``client_timing_stats`` (whose ``training`` part upstream always leaves ``{}``) and the three
``*_start_time`` values; the succeeded/failed counts and the client lists exist only in the events' details.

Times are laid out backwards from "now": a round finishes when :meth:`step` is called, and its phases fill the
time since the emulator last did anything (scaled down when that was less than the scripted durations), so every
timestamp is in the past and events stay in time order.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from typing import Any

import attrs

#: The fallback size upstream reports for its CNN (454,890 float32 parameters), in MB.
MODEL_SIZE_MB = 454_890 * 4 / (1024 * 1024)


def iso_utc(epoch: float) -> str:
    """``epoch`` as ``datetime.now(timezone.utc).isoformat()`` writes it (the FL server's timestamps)."""
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _stats(values: list[float]) -> tuple[float, float, float, float]:
    """Total, average, min and max of durations, as upstream computes them (0.0 for an empty list)."""
    if not values:
        return 0.0, 0.0, 0.0, 0.0
    return sum(values), sum(values) / len(values), min(values), max(values)


def _spread(values: list[float], noun: str) -> dict[str, float]:
    """Upstream's ``total_<noun>``, ``average_<noun>``, ``min_<noun>``, ``max_<noun>`` keys."""
    return dict(zip((f"{word}_{noun}" for word in ("total", "average", "min", "max")), _stats(values), strict=True))


@attrs.define
class Round:
    """What one round produced: the four events' details (with their times) and the row."""

    started: dict[str, Any]
    aggregated: dict[str, Any]
    evaluated: dict[str, Any]
    completed: dict[str, Any]
    row: dict[str, Any]
    times: dict[str, float]  # epoch s: start, aggregated (end of aggregate_fit), end


def play_round(
    rng: random.Random, n: int, *, clients: int, dropout: float, convergence: float, since: float, now: float
) -> Round:
    """Play round ``n`` with ``clients`` connected, ending at ``now`` and starting no earlier than ``since``."""
    failed = sum(1 for _ in range(clients) if rng.random() < dropout)
    ok = clients - min(failed, max(0, clients - 2))  # as the scripted run keeps at least two clients
    trained = [round(rng.uniform(5, 12), 3) for _ in range(ok)]
    evaluated = [round(rng.uniform(0.5, 2), 3) for _ in range(ok)]
    examples = [rng.randint(800, 1500) for _ in range(ok)]
    target = 1 - 0.9 * math.exp(-convergence * n)
    accuracies = [min(0.995, target + rng.gauss(0, 0.02)) for _ in range(ok)]
    losses = [max(0.01, 2.3 * math.exp(-convergence * n) + abs(rng.gauss(0, 0.05))) for _ in range(ok)]
    scripted = {"config": 0.05, "fit": max(trained) + 0.3, "aggregation": rng.uniform(0.3, 0.9)}
    scripted |= {"eval_wait": max(evaluated) + 0.2, "evaluation": rng.uniform(0.01, 0.05)}
    scale = min(1.0, max(now - since, 0.0) / sum(scripted.values()))
    phase = {key: seconds * scale for key, seconds in scripted.items()}
    start = now - sum(phase.values())
    aggregation_start = start + phase["config"] + phase["fit"]
    aggregated_at = aggregation_start + phase["aggregation"]
    evaluation_start = aggregated_at + phase["eval_wait"]
    total = now - start
    weight = sum(examples)
    accuracy = sum(a * e for a, e in zip(accuracies, examples, strict=True)) / weight if weight else 0.0
    loss = sum(v * e for v, e in zip(losses, examples, strict=True)) / weight if weight else 0.0
    mix = {"unique_model_types": ["cnn"], "unique_datasets": ["mnist"]}
    started = {
        "round": n,
        "total_clients": clients,
        "selected_clients": clients,
        "timestamp": iso_utc(start + phase["config"]),
        "round_start_time": start,
        "config_duration": phase["config"],
        "parameters_size": 8,
    }
    aggregated = {
        "round": n,
        "successful_clients": ok,
        "failed_clients": clients - ok,
        "total_clients": clients,
        "aggregation_duration": phase["aggregation"],
        "round_duration_partial": aggregated_at - start,
        "timestamp": iso_utc(aggregated_at),
        "aggregated_metrics": {},
        "client_training_durations": trained,
        **_spread(trained, "client_training_time"),
        **mix,
        "model_type_distribution": {"cnn": ok} if ok else {},
        "dataset_distribution": {"mnist": ok} if ok else {},
        "model_size_mb": MODEL_SIZE_MB,
    }
    evaluated_details = {
        "round": n,
        "accuracy": accuracy,
        "loss": loss,
        "evaluation_duration": phase["evaluation"],
        "total_round_duration": total,
        "successful_evaluations": ok,
        "failed_evaluations": clients - ok,
        "timestamp": iso_utc(now),
        "client_evaluation_durations": evaluated,
        **_spread(evaluated, "client_evaluation_time"),
        **{f"eval_{key}": value for key, value in mix.items()},
        "eval_model_type_distribution": {"cnn": ok} if ok else {},
        "eval_dataset_distribution": {"mnist": ok} if ok else {},
        "aggregation_duration": phase["aggregation"],
        "model_size_mb": MODEL_SIZE_MB,
    }
    timing = dict(zip(("total_time", "average_time", "min_time", "max_time"), _stats(evaluated), strict=True))
    row = {
        "round": n,
        "timestamp": iso_utc(now),
        "status": "complete",
        "accuracy": accuracy,
        "loss": loss,
        "training_duration": total,
        "model_size_mb": MODEL_SIZE_MB,
        "clients": clients,
        "raw_metrics": {
            "aggregated_loss": loss,
            "aggregated_metrics": {},
            "evaluation_results_count": ok,
            "round_start_time": start,
            "aggregation_start_time": aggregation_start,
            "evaluation_start_time": evaluation_start,
            "phase_durations": {"total": total, "aggregation": phase["aggregation"], "evaluation": phase["evaluation"]},
            "client_timing_stats": {
                "training": {},  # upstream reads an attribute it never sets, so this is always empty
                "evaluation": {**timing, "count": len(evaluated)},
            },
        },
    }
    breakdown = {
        "aggregation_duration": phase["aggregation"],
        "evaluation_duration": phase["evaluation"],
        "total_duration": total,
    }
    completed = {**evaluated_details, "phase_breakdown": breakdown}
    times = {"start": start, "aggregated": aggregated_at, "end": now}
    return Round(started, aggregated, evaluated_details, completed, row, times)
