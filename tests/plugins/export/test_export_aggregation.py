"""Aggregated exports over HTTP: time buckets per series with mean/min/max/last/count, and counters' rates."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from typing import Any

import pytest
from experiment_records import EXPERIMENT, experiment
from export_api_helpers import Api
from flcollector import Metric

BUCKETS = {"1m": 60, "5m": 300, "1h": 3600, "90s": 90}


def expected_port_buckets(port: str, seconds: int) -> dict[int, dict[str, Any]]:
    """The statistics of one port's samples per bucket, computed here from the records themselves."""
    bucket_ns = seconds * 1_000_000_000
    groups: dict[int, list[Metric]] = defaultdict(list)
    for record in experiment():
        if isinstance(record, Metric) and record.name == "sdn_port" and record.tags["port"] == port:
            groups[record.time_ns // bucket_ns * bucket_ns].append(record)
    out = {}
    for start, samples in groups.items():
        samples.sort(key=lambda m: m.time_ns)
        first, last = samples[0], samples[-1]
        rx = [float(m.fields["rx_bps"]) for m in samples]
        elapsed = (last.time_ns - first.time_ns) / 1e9
        out[start] = {
            "samples": len(samples), "rx_bps_count": len(rx), "rx_bps_mean": statistics.fmean(rx),
            "rx_bps_min": min(rx), "rx_bps_max": max(rx), "rx_bps_last": last.fields["rx_bps"],
            "rx_bytes_last": last.fields["rx_bytes"],
            "rx_bytes_rate": (last.fields["rx_bytes"] - first.fields["rx_bytes"]) / elapsed if elapsed else None,
            "round": max(m.round for m in samples if m.round is not None),
        }
    return out


@pytest.mark.parametrize("aggregation", list(BUCKETS))
async def test_aggregation_gives_one_row_per_series_and_bucket(api: Api, aggregation: str) -> None:
    response = await api.export(experiment_id=EXPERIMENT, format="csv", components=["network_metrics"],
                                aggregation=aggregation)
    entry = response.json()
    assert response.status_code == 200 and entry["aggregation"] == aggregation
    body = (await api.client.get(entry["download_url"])).text
    rows = list(csv.DictReader(io.StringIO(body)))
    expected = expected_port_buckets("1", BUCKETS[aggregation])
    got = {int(r["time_ns"]): r for r in rows if r["name"] == "sdn_port" and r["tag_port"] == "1"}
    assert sorted(got) == sorted(expected)
    for start, want in expected.items():
        row = got[start]
        assert int(row["samples"]) == want["samples"] and int(row["rx_bps_count"]) == want["rx_bps_count"]
        for stat in ("rx_bps_mean", "rx_bps_min", "rx_bps_max", "rx_bps_last"):
            assert float(row[stat]) == pytest.approx(want[stat])
        assert int(row["rx_bytes_last"]) == want["rx_bytes_last"] and int(row["round"]) == want["round"]
        if want["rx_bytes_rate"] is None:
            assert row["rx_bytes_rate"] == ""  # one sample: no rate
        else:
            assert float(row["rx_bytes_rate"]) == pytest.approx(want["rx_bytes_rate"])
        assert "rx_bytes_mean" not in row  # a counter's mean means nothing: its rate is given instead
    assert {r["name"] for r in rows} == {"sdn_port", "network"}
    network = [r for r in rows if r["name"] == "network"]
    assert all(r["sdn_status_last"] == "connected" for r in network)  # text fields: the last value


async def test_aggregated_json_has_statistics_as_fields_and_event_counts(api: Api) -> None:
    entry = (await api.export(experiment_id=EXPERIMENT, format="json", aggregation="1h",
                              components=["policy"])).json()
    items = (await api.client.get(entry["download_url"])).json()
    metrics = [i for i in items if i["kind"] == "metric"]
    assert {m["name"] for m in metrics} == {"decision_count"}
    (row,) = metrics if len(metrics) == 1 else [max(metrics, key=lambda m: m["fields"]["samples"])]
    assert row["fields"]["allowed_last"] >= row["fields"]["allowed_count"] > 0
    counts = [i for i in items if i["kind"] == "event_count"]
    decisions = [e for e in experiment() if getattr(e, "type", None) == "POLICY_DECISION"]
    assert sum(c["count"] for c in counts) == len(decisions)
    assert {(c["type"], c["level"]) for c in counts} == {("POLICY_DECISION", "INFO"), ("POLICY_DECISION", "WARNING")}
