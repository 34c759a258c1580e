"""The report's figures, drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global
figure state), as PNG bytes. Blocking: called in a worker thread, one report at a time (see report_export).

Each function returns the PNG, or None when the experiment has nothing to draw for it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from .report_data import Line, ReportData

PHASE_COLOURS = ["#9ecae1", "#3182bd", "#fd8d3c", "#74c476", "#9e9ac8", "#bdbdbd"]


def _figure(rows: int = 1, height: float = 3.2) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9.5, height * rows), dpi=100, layout="constrained")
    axes = figure.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return figure, axes


def _png(figure: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _rounds_axis(ax: Any, rounds: list[int]) -> None:
    ax.set_xlabel("round")
    ax.grid(True, alpha=0.3)
    if len(rounds) <= 30:
        ax.set_xticks(rounds)


def accuracy_loss(data: ReportData) -> bytes | None:
    """Accuracy (left axis) and loss (right axis) per round."""
    rounds = sorted(r for r, row in data.rounds.items() if row.get("accuracy") is not None
                    or row.get("loss") is not None)
    if not rounds:
        return None
    figure, (ax,) = _figure()
    ax.plot(rounds, [data.rounds[r].get("accuracy") for r in rounds], "o-", color="#2b8cbe", label="accuracy")
    ax.set_ylabel("accuracy")
    right = ax.twinx()
    right.plot(rounds, [data.rounds[r].get("loss") for r in rounds], "s--", color="#e6550d", label="loss")
    right.set_ylabel("loss")
    figure.legend(loc="outside upper center", ncols=2, fontsize="small")
    _rounds_axis(ax, rounds)
    return _png(figure)


def phase_keys(data: ReportData) -> list[str]:
    """The ``phase_<name>_s`` fields of the rounds, in FLOPY-NET's phase order first."""
    found = {k for row in data.rounds.values() for k in row if k.startswith("phase_") and k.endswith("_s")}
    order = ["phase_config_s", "phase_training_s", "phase_aggregation_s", "phase_evaluation_s"]
    return [k for k in order if k in found] + sorted(found - set(order))


def round_phases(data: ReportData) -> bytes | None:
    """Each round's duration as stacked bars of its phases."""
    keys = phase_keys(data)
    rounds = sorted(data.rounds)
    if not keys or not rounds:
        return None
    figure, (ax,) = _figure()
    bottom = [0.0] * len(rounds)
    for colour, key in zip(PHASE_COLOURS * 3, keys, strict=False):
        heights = [float(data.rounds[r].get(key) or 0.0) for r in rounds]
        ax.bar(rounds, heights, bottom=bottom, color=colour, label=key.removeprefix("phase_").removesuffix("_s"))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("seconds")
    figure.legend(loc="outside upper center", ncols=len(keys), fontsize="small")
    _rounds_axis(ax, rounds)
    return _png(figure)


def participants(data: ReportData) -> bytes | None:
    """Clients that succeeded, failed and straggled per round, with the number selected."""
    rounds = sorted(data.rounds)
    if not rounds:
        return None
    succeeded = [data.rounds[r].get("clients_succeeded") or 0 for r in rounds]
    failed = [data.rounds[r].get("clients_failed") or 0 for r in rounds]
    stragglers = [len(data.stragglers.get(r, [])) for r in rounds]
    figure, (ax,) = _figure()
    ax.bar(rounds, succeeded, color="#74c476", label="succeeded")
    ax.bar(rounds, failed, bottom=succeeded, color="#de2d26", label="failed")
    slow = [(r, n) for r, n in zip(rounds, stragglers, strict=True) if n]
    ax.plot([r for r, _ in slow], [n for _, n in slow], "D", color="#fd8d3c", markersize=8, label="stragglers")
    ax.plot(rounds, [data.rounds[r].get("clients_selected") for r in rounds], "_", markersize=18, color="black",
            label="selected")
    ax.set_ylabel("clients")
    figure.legend(loc="outside upper center", ncols=4, fontsize="small")
    _rounds_axis(ax, rounds)
    return _png(figure)


def _time_axis(ax: Any, data: ReportData, start: int) -> None:
    """Seconds since the start, with each round's start marked and labelled along the top."""
    ax.grid(True, alpha=0.3)
    starts = sorted(data.round_starts.items())
    every = max(1, len(starts) // 20)
    for index, (round_, time_ns) in enumerate(starts):
        x = (time_ns - start) / 1e9
        ax.axvline(x, color="grey", linewidth=0.6, alpha=0.5)
        if index % every == 0:
            ax.text(x, 1.0, str(round_), transform=ax.get_xaxis_transform(), fontsize=7, ha="center",
                    va="bottom", color="grey")


def _lines(ax: Any, lines: list[Line], start: int, ylabel: str) -> None:
    for line in lines:
        ax.plot([(t - start) / 1e9 for t in line.times], line.values, label=line.label, linewidth=1.2)
    ax.set_ylabel(ylabel)
    if lines:
        ax.legend(loc="upper left", fontsize="x-small", ncols=2)


def network(data: ReportData) -> bytes | None:
    """Throughput and dropped packets on the busiest ports, and latency, over time with the rounds marked."""
    panels = [(lines, label) for lines, label in ((data.throughput, "Mbit/s (rx + tx)"),
                                                  (data.loss, "dropped packets/s"), (data.latency, "latency ms"))
              if lines]
    if not panels:
        return None
    start = data.facts["first_ns"]
    figure, axes = _figure(len(panels), height=2.4)
    for ax, (lines, label) in zip(axes, panels, strict=True):
        _lines(ax, lines, start, label)
        _time_axis(ax, data, start)
    axes[-1].set_xlabel("seconds since the start (round numbers along the top)")
    return _png(figure)


def policy(data: ReportData) -> bytes | None:
    """Policy decisions allowed and denied per round."""
    rounds = sorted(data.policy)
    if not rounds:
        return None
    allowed = [data.policy[r]["allowed"] for r in rounds]
    figure, (ax,) = _figure()
    ax.bar(rounds, allowed, color="#74c476", label="allowed")
    ax.bar(rounds, [data.policy[r]["denied"] for r in rounds], bottom=allowed, color="#de2d26", label="denied")
    ax.set_ylabel("decisions")
    figure.legend(loc="outside upper center", ncols=2, fontsize="small")
    _rounds_axis(ax, rounds)
    return _png(figure)


LEVEL_COLOURS = {"INFO": "#3182bd", "WARNING": "#fd8d3c", "ERROR": "#de2d26", "CRITICAL": "#67000d"}


def timeline(data: ReportData) -> bytes | None:
    """Anomalies, alerts and milestones by type over time, coloured by level, with the rounds marked."""
    if not data.timeline:
        return None
    start = data.facts["first_ns"]
    types = sorted({type_ for _, type_, _, _ in data.timeline})
    figure, (ax,) = _figure(height=max(2.0, 0.45 * len(types) + 1.2))
    for level, colour in LEVEL_COLOURS.items():
        points = [((t - start) / 1e9, types.index(type_)) for t, type_, lvl, _ in data.timeline if lvl == level]
        if points:
            ax.scatter(*zip(*points, strict=True), color=colour, label=level, s=22, zorder=3)
    ax.set_yticks(range(len(types)), types, fontsize="small")
    ax.set_ylim(-0.7, len(types) - 0.3)
    figure.legend(loc="outside upper center", fontsize="x-small", ncols=4)
    _time_axis(ax, data, start)
    ax.set_xlabel("seconds since the start (round numbers along the top)")
    return _png(figure)


#: (id, title, caption, function) of every figure, in the order the report shows them.
FIGURES: list[tuple[str, str, str, Callable[[ReportData], bytes | None]]] = [
    ("accuracy", "Accuracy and loss per round", "the fl_round metric (the FL server's evaluation)", accuracy_loss),
    ("phases", "Round duration by phase", "the fl_round phase_*_s fields", round_phases),
    ("participants", "Participants, failures and stragglers per round",
     "clients_selected/succeeded/failed of fl_round; stragglers from fl_client training times", participants),
    ("network", "Network during training",
     "sdn_port on the busiest ports (by traffic), and latency from the network and probe_tcp metrics", network),
    ("policy", "Policy decisions per round", "POLICY_DECISION events: INFO allowed, WARNING denied", policy),
    ("timeline", "Anomalies and alerts", "WARNING, ERROR and CRITICAL events (but policy denials) and milestones",
     timeline),
]
