"""The report: what it reads from a real sqlite store, and the self-contained page it draws."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import trio
from experiment_records import DENIED, EXPERIMENT, ROUNDS, S, experiment, round_start
from flcollector import Metric
from flcollector.plugins.exporters.report_data import ReportData, gather
from flcollector.plugins.exporters.report_export import draw, render
from flcollector.plugins.exporters.report_html import CHECK_SCRIPT
from flcollector.plugins.sqlite import SqliteStore

pytest.importorskip("matplotlib")


@pytest.fixture
async def store(make_component: Callable[..., Any]) -> AsyncIterator[SqliteStore]:
    sink = make_component(SqliteStore, {"retention": "0s"})
    with trio.fail_after(20):
        async with sink:
            await sink.write(experiment())
            yield sink


@pytest.fixture
async def data(store: SqliteStore) -> ReportData:
    with trio.fail_after(20):
        return await gather(store, EXPERIMENT)


async def test_rounds_clients_and_stragglers(data: ReportData) -> None:
    assert sorted(data.rounds) == list(range(1, ROUNDS + 1))
    assert data.rounds[3]["clients_failed"] == 1 and data.rounds[5]["accuracy"] == pytest.approx(1.0)
    assert data.stragglers == {2: ["client_4"]}  # 30 s against a median of about 10 s
    assert data.round_starts == {r: round_start(r) for r in range(1, ROUNDS + 1)}


async def test_policy_decisions_and_anomalies_per_round(data: ReportData) -> None:
    assert data.policy == {r: {"allowed": 2, "denied": DENIED[r]} for r in range(1, ROUNDS + 1)}
    assert data.anomalies == {3: 1}


async def test_network_lines_of_the_busiest_ports(data: ReportData) -> None:
    assert [line.label for line in data.throughput] == [
        f"switch 0000000000000001 port {p}" for p in ("1", "2", "3")]
    assert max(v for v in data.throughput[0].values if v is not None) == pytest.approx(12.0)  # 8 + 4 Mbit/s
    drops = dict(zip(data.loss[1].times, data.loss[1].values, strict=True))
    assert any(v and v > 0 for v in drops.values()) and not any(data.loss[0].values)
    assert [line.label for line in data.latency] == ["controller latency (avg)"]


async def test_facts_gaps_and_timeline(data: ReportData) -> None:
    facts = data.facts
    own = [r for r in experiment() if r.experiment == EXPERIMENT]
    assert facts["metrics"] + facts["events"] == len(own)
    assert facts["sources"] == ["fl_server", "policy", "policy_engine", "sdn_controller"]
    (gap,) = data.gaps
    assert gap["source"] == "policy" and gap["end_ns"] - gap["start_ns"] == 6 * S
    assert gap["error"] == "connection refused"
    types = {type_ for _, type_, _, _ in data.timeline}
    assert types == {"ANOMALY_DETECTED", "SOURCE_UNREACHABLE", "SOURCE_RECOVERED"}  # no policy decision
    assert data.timeline_total == len(data.timeline)


async def test_the_page_is_self_contained_with_every_figure(data: ReportData) -> None:
    with trio.fail_after(60):
        text = await trio.to_thread.run_sync(draw, data)
    figures = re.findall(r'<figure id="figure-(\w+)"><img alt="[^"]+" src="data:image/png;base64,', text)
    assert figures == ["accuracy", "phases", "participants", "network", "policy", "timeline"]
    assert not re.search(r"(src|href)=\"(https?:)?//", text)  # nothing to fetch
    rows = re.findall(r"<tr><td>(\d+)</td>", text.split('<table id="rounds">')[1])
    assert rows == [str(r) for r in range(1, ROUNDS + 1)]
    assert "client_4" in text and "connection refused" in text and f"report: {EXPERIMENT}" in text


async def test_an_experiment_without_rounds_says_what_is_missing(store: SqliteStore) -> None:
    with trio.fail_after(60):
        text = await render(store, "exp_other")
    assert 'id="no-accuracy"' in text and 'id="no-network"' in text and "<figure" not in text
    assert "No round was recorded" in text and "1 metrics, 0 events" in text


async def test_text_from_the_store_is_escaped(make_component: Callable[..., Any]) -> None:
    sink = make_component(SqliteStore, {"retention": "0s"})
    with trio.fail_after(60):
        async with sink:
            await sink.write([Metric("fl_round", {"accuracy": 0.5, "status": "<b>x</b>"}, experiment="<script>",
                                     round=1)])
            text = await render(sink, "<script>")
    assert "<script>" not in text.replace(CHECK_SCRIPT, "") and "&lt;script&gt;" in text
