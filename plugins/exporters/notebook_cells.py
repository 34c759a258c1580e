"""The cells of the generated analysis notebook: load the export, plot accuracy and loss per round, list events."""

from __future__ import annotations

import textwrap
from typing import Any


def _source(text: str) -> list[str]:
    """Split ``text`` into nbformat's list of lines (each but the last ending in a newline)."""
    lines = textwrap.dedent(text).strip("\n").split("\n")
    return [line + "\n" for line in lines[:-1]] + lines[-1:]


def markdown(text: str) -> dict[str, Any]:
    """Return a markdown cell."""
    return {"cell_type": "markdown", "metadata": {}, "source": _source(text)}


def code(text: str) -> dict[str, Any]:
    """Return a code cell that has not been run."""
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": _source(text)}


def intro_cell(title: str, metrics: int, events: int, experiments: list[str]) -> dict[str, Any]:
    """Return the title cell: what was exported."""
    names = ", ".join(f"`{e}`" for e in experiments) or "none recorded"
    return markdown(f"""
        # FLOPY-NET experiment analysis: {title}

        Exported by flcollector: {metrics} metrics and {events} events; experiments: {names}.
        Run the cells in order (needs `pandas` and `matplotlib`).
        """)


IMPORTS = """
    import json
    from pathlib import Path

    import matplotlib.pyplot as plt
    import pandas as pd
    """

PLOT = """
    # accuracy and loss per FL round (the fl monitor's `fl_round` metric; one row per round)
    rounds = metrics[metrics["name"] == "fl_round"].sort_values("round").drop_duplicates("round", keep="last")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, column in zip(axes, ["accuracy", "loss"]):
        if column in rounds and rounds[column].notna().any():
            ax.plot(rounds["round"], rounds[column], marker="o")
        ax.set_title(f"{column} per round")
        ax.set_xlabel("round")
        ax.grid(True)
    plt.tight_layout()
    plt.show()
    rounds.dropna(axis=1, how="all")
    """

CONVERGENCE = """
    # derived by the convergence processor, when it was enabled
    convergence = metrics[metrics["name"] == "fl_convergence"].sort_values("round").dropna(axis=1, how="all")
    convergence
    """


def csv_cells(data_file: str, events_file: str | None) -> list[dict[str, Any]]:
    """Return the cells that analyse a CSV export (``events_file`` is None when no event was exported)."""
    events = f'pd.read_csv("{events_file}", parse_dates=["time"])' if events_file else "pd.DataFrame()"
    return [
        code(IMPORTS),
        code(f"""
            # one row per metric: time, time_ns, name, source, experiment, round, tag_<key>..., then the fields
            metrics = pd.read_csv("{data_file}", parse_dates=["time"])
            events = {events}
            metrics.groupby("name").size()
            """),
        code(PLOT),
        code(CONVERGENCE),
        code("""
            # events by type and level (details is a JSON object as text: json.loads it)
            events.groupby(["type", "level"]).size() if len(events) else "no events exported"
            """),
    ]


def json_cells(data_file: str) -> list[dict[str, Any]]:
    """Return the cells that analyse a JSON export (a list of records with a ``kind`` key)."""
    return [
        code(IMPORTS),
        code(f"""
            records = json.loads(Path("{data_file}").read_text())
            # flatten fields and tags into columns named like the CSV export's
            metrics = pd.json_normalize([r for r in records if r["kind"] == "metric"])
            metrics.columns = [c.removeprefix("fields.").replace("tags.", "tag_") for c in metrics.columns]
            metrics["time"] = pd.to_datetime(metrics["time_ns"], unit="ns", utc=True) if len(metrics) else []
            events = pd.DataFrame([r for r in records if r["kind"] == "event"])
            metrics.groupby("name").size() if len(metrics) else "no metrics exported"
            """),
        code(PLOT),
        code(CONVERGENCE),
        code("""
            events.groupby(["type", "level"]).size() if len(events) else "no events exported"
            """),
    ]
