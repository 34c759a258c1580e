"""The report page: one self-contained HTML file (CSS inline, figures as ``data:`` PNGs; nothing fetched).

Every text taken from the store is escaped.
"""

from __future__ import annotations

import base64
import html
from typing import Any

from flcollector import iso_time, now_ns

from .report_data import STRAGGLER_FACTOR, TIMELINE_LIMIT, ReportData
from .report_figures import FIGURES, phase_keys

#: Marks, once the page has loaded, how many figures the browser decoded (what the browser test reads back).
CHECK_SCRIPT = ("<script>addEventListener('load', () => { const shown = [...document.images].filter("
                "i => i.complete && i.naturalWidth > 0); document.body.dataset.figuresRendered = shown.length; "
                "});</script>")
STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; } th { background: #f4f4f4; }
td.text, th.text { text-align: left; } figure { margin: 0.5em 0 1.5em; } figure img { max-width: 100%; }
figcaption, .note { color: #666; font-size: 12px; } .empty { color: #999; font-style: italic; }
"""


def _cell(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return html.escape(str(value))


def _when(time_ns: int | None) -> str:
    return "" if time_ns is None else iso_time(time_ns)[:23].replace("T", " ") + " UTC"


def _seconds(start: int, end: int | None) -> str:
    return "" if end is None else f"{(end - start) / 1e9:.1f}"


def facts_table(data: ReportData) -> str:
    """The experiment's facts: sources, start, end, rounds, records, gaps."""
    facts = data.facts
    first, last = facts["first_ns"], facts["last_ns"]
    span = "" if first is None else f" ({(last - first) / 1e9:.1f} s)"
    rows = [
        ("experiment", html.escape(data.experiment or "every record")),
        ("sources", html.escape(", ".join(facts["sources"]) or "none")),
        ("start", _when(first)), ("end", _when(last) + span),
        ("rounds", f"{len(data.rounds)} recorded (rounds {facts['min_round']} to {facts['max_round']} seen)"
         if facts["max_round"] is not None else "none"),
        ("records", f"{facts['metrics']:,} metrics, {facts['events']:,} events"),
        ("gaps", f"{len(data.gaps)} (a source unreachable; see below)" if data.gaps else "none: every source "
         "answered throughout"),
    ]
    body = "".join(f'<tr><th class="text">{k}</th><td class="text">{v}</td></tr>' for k, v in rows)
    return f'<table id="facts">{body}</table>'


def gaps_table(data: ReportData) -> str:
    """When a source was unreachable (SOURCE_UNREACHABLE to SOURCE_RECOVERED)."""
    if not data.gaps:
        return '<p class="empty">No gaps: no source was unreachable.</p>'
    head = "<tr><th class='text'>source</th><th>from</th><th>to</th><th>seconds</th><th class='text'>error</th></tr>"
    rows = "".join(
        f"<tr><td class='text'>{html.escape(g['source'])}</td><td>{_when(g['start_ns'])}</td>"
        f"<td>{_when(g['end_ns']) or 'still down at the end'}</td>"
        f"<td>{_seconds(g['start_ns'], g['end_ns'])}</td>"
        f"<td class='text'>{html.escape(g['error'])}</td></tr>"
        for g in data.gaps
    )
    return f'<table id="gaps">{head}{rows}</table>'


def rounds_table(data: ReportData) -> str:
    """One row per round: time, duration and phases, accuracy, loss, clients, stragglers, policy, anomalies."""
    if not data.rounds:
        return '<p class="empty">No round was recorded (no fl_round metric).</p>'
    phases = phase_keys(data)
    columns = ["round", "completed (UTC)", "duration s", *[p.removeprefix("phase_").removesuffix("_s") + " s"
                                                     for p in phases],
               "accuracy", "loss", "selected", "succeeded", "failed", "stragglers", "allowed", "denied", "anomalies"]
    head = "".join(f"<th>{c}</th>" for c in columns)
    body = []
    for round_ in sorted(data.rounds):
        row = data.rounds[round_]
        policy = data.policy.get(round_, {})
        cells = [round_, _when(row.get("time_ns"))[11:19], row.get("total_duration_s"), *[row.get(p) for p in phases],
                 row.get("accuracy"), row.get("loss"), row.get("clients_selected"), row.get("clients_succeeded"),
                 row.get("clients_failed"), ", ".join(data.stragglers.get(round_, [])) or None,
                 policy.get("allowed"), policy.get("denied"), data.anomalies.get(round_)]
        body.append("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    return f'<table id="rounds"><tr>{head}</tr>{"".join(body)}</table>'


def page(data: ReportData, pngs: dict[str, bytes | None], version: str) -> str:
    """The whole HTML document."""
    title = f"FL experiment report: {data.experiment or 'every record'}"
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
             f"<p class='note'>Written by flcollector {html.escape(version)} at {_when(now_ns())}.</p>",
             "<h2>The experiment</h2>", facts_table(data)]
    for key, heading, caption, _draw in FIGURES:
        parts.append(f"<h2>{heading}</h2>")
        png = pngs.get(key)
        if png is None:
            parts.append(f'<p class="empty" id="no-{key}">Nothing to draw: the experiment has no {caption}.</p>')
            continue
        data_uri = "data:image/png;base64," + base64.b64encode(png).decode()
        parts.append(f'<figure id="figure-{key}"><img alt="{heading}" src="{data_uri}">'
                     f"<figcaption>From {caption}.</figcaption></figure>")
    if data.timeline_total > len(data.timeline):
        parts.append(f"<p class='note'>The timeline shows the first {TIMELINE_LIMIT} of {data.timeline_total} "
                     "alert events.</p>")
    parts += ["<h2>Rounds</h2>", rounds_table(data),
              f"<p class='note'>A straggler is a client whose training took more than {STRAGGLER_FACTOR}x the "
              "median of its round (rounds with at least three clients reporting).</p>",
              "<h2>Gaps</h2>", gaps_table(data), CHECK_SCRIPT, "</body></html>\n"]
    return "".join(parts)

