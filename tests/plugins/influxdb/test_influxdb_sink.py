"""The ``influxdb`` sink through a real agent into a real InfluxDB 1.x, read back with InfluxQL; v2 against a double."""

from __future__ import annotations

from pathlib import Path

import orjson
import trio
from flcollector import Event, Metric
from flcollector.plugins.influxdb import LineEncoder
from flcollector.plugins.server.lineprotocol import parse
from remote_agents import running_agent
from remote_servers import InfluxServer, free_port
from v2_double import InfluxV2Double

T0 = 1_700_000_000_000_000_000


def metrics(count: int, start: int = 0) -> list[Metric]:
    return [
        Metric("fl_training", {"accuracy": 0.5 + i / 1000, "loss": 1.0 / (i + 1), "samples": 100 + i,
                               "phase": "train"},
               time_ns=T0 + i * 1_000_000, tags={"client": f"client_{i % 3}"}, source="fl_server", round=1 + i // 10)
        for i in range(start, start + count)
    ]


def sink_toml(url: str, extra: str = "") -> str:
    return f"""
[[sinks.influxdb]]
url = "{url}"
flush_interval = "20ms"
batch_size = 100
backoff_initial = "20ms"
backoff_max = "200ms"
{extra}
"""


async def test_records_arrive_in_influxdb_with_tags_fields_and_events(influx: InfluxServer, tmp_path: Path) -> None:
    event = Event("ROUND_COMPLETED", "round 3 done", time_ns=T0 + 5, source="fl_server",
                  details={"round": 3, "clients": ["a", "b"]}, round=3)
    with trio.fail_after(60):
        async with running_agent(tmp_path, sink_toml(influx.url, 'database = "write_test"')) as agent:
            await agent.send(metrics(250))
            await agent.send([event])
        stats = agent.stats.get("sink", "influxdb")
    assert stats is not None and stats.counters["dropped"] == 0
    assert stats.counters["records_out"] == stats.counters["records_in"] == 251 + 1  # + the final self-metrics
    (series,) = await trio.to_thread.run_sync(
        influx.query, 'SELECT count("accuracy"), sum("samples") FROM "fl_training"', "write_test")
    assert series["values"][0][1:] == [250, float(sum(100 + i for i in range(250)))]
    rows = await trio.to_thread.run_sync(
        influx.query, "SELECT * FROM fl_training WHERE client = 'client_1' AND \"round\" = '2' ORDER BY time",
        "write_test")
    columns = rows[0]["columns"]
    first = dict(zip(columns, rows[0]["values"][0], strict=True))
    assert first["time"] == T0 + 10 * 1_000_000 and first["accuracy"] == 0.51 and first["samples"] == 110
    assert first["phase"] == "train" and first["experiment"] == "exp_remote" and first["source"] == "fl_server"
    (events,) = await trio.to_thread.run_sync(influx.query, "SELECT * FROM flcollector_events", "write_test")
    row = dict(zip(events["columns"], events["values"][0], strict=True))
    assert row["type"] == "ROUND_COMPLETED" and row["message"] == "round 3 done" and row["level"] == "INFO"
    assert orjson.loads(row["details"]) == {"round": 3, "clients": ["a", "b"]} and row["round"] == "3"
    assert isinstance(row["id"], int) and row["id"] >= 1


async def test_a_point_influxdb_refuses_is_dropped_alone_and_counted(influx: InfluxServer, tmp_path: Path) -> None:
    good = metrics(40)
    clash = Metric("fl_training", {"accuracy": "not a number"}, time_ns=T0 + 7, tags={"client": "client_9"},
                   source="fl_server")  # a string where InfluxDB already holds floats: a field type conflict (400)
    with trio.fail_after(60):
        async with running_agent(tmp_path, sink_toml(influx.url, 'database = "conflict_test"')) as agent:
            await agent.send(good[:20])
        async with running_agent(tmp_path / "second", sink_toml(influx.url, 'database = "conflict_test"')) as agent:
            await agent.send([*good[20:30], clash, *good[30:]])
        stats = agent.stats.get("sink", "influxdb")
    assert stats is not None and stats.counters["rejected"] == 1 and stats.counters["dropped"] == 1
    assert stats.counters["splits"] >= 1
    (series,) = await trio.to_thread.run_sync(influx.query, 'SELECT count("accuracy") FROM fl_training',
                                              "conflict_test")
    assert series["values"][0][1] == 40


async def test_v2_api_with_token_org_bucket_gzip_and_precision(nursery: trio.Nursery, tmp_path: Path) -> None:
    from flcollector.httpserve import serve_asgi

    double = InfluxV2Double(org="lab", bucket="fl", token="s3cret", max_body=3000)
    url = await nursery.start(serve_asgi, double.app)
    extra = 'org = "lab"\nbucket = "fl"\ntoken = "s3cret"\nprecision = "ms"'
    with trio.fail_after(60):
        async with running_agent(tmp_path, sink_toml(url, extra)) as agent:
            await agent.send(metrics(100))
        stats = agent.stats.get("sink", "influxdb")
    assert stats is not None and stats.counters["records_out"] == 101 and stats.counters["dropped"] == 0
    assert stats.counters["splits"] >= 1  # 100 lines exceed the double's 3000-byte limit: 413, split, delivered
    assert double.gzipped == double.requests
    training = [p for p in double.points if p.name == "fl_training"]
    assert sorted(p.time_ns for p in training) == [T0 + i * 1_000_000 for i in range(100)]  # ms precision kept
    assert {p.tags["client"] for p in training} == {"client_0", "client_1", "client_2"}


async def test_a_wrong_token_keeps_the_backlog_and_reports_unhealthy(nursery: trio.Nursery, tmp_path: Path) -> None:
    from flcollector.httpserve import serve_asgi

    double = InfluxV2Double(org="lab", bucket="fl", token="right")
    url = await nursery.start(serve_asgi, double.app)
    toml = sink_toml(url, 'org = "lab"\nbucket = "fl"\ntoken = "wrong"')
    with trio.fail_after(30):
        async with running_agent(tmp_path, toml, grace="300ms") as agent:
            await agent.send(metrics(10))
            stats = agent.stats.get("sink", "influxdb")
            assert stats is not None
            while double.requests < 2:  # noqa: ASYNC110 - another server's counter
                await trio.sleep(0.02)
            report = stats.snapshot()
            assert report["remote_status"] == "unhealthy" and report["backlog_records"] == 10
            assert report["oldest_unsent_age_s"] > 0 and "401" in (report["last_error"] or "")
    assert stats.counters["rejected"] == 0 and not double.points


async def test_a_backlog_goes_in_requests_of_several_batches_up_to_max_request_records(nursery: trio.Nursery,
                                                                                      tmp_path: Path) -> None:
    from flcollector.httpserve import serve_asgi

    double = InfluxV2Double(org="lab", bucket="fl", token="not yet")  # 401 until the operator fixes the token
    url = await nursery.start(serve_asgi, double.app)
    toml = sink_toml(url, 'org = "lab"\nbucket = "fl"\ntoken = "s3cret"\nmax_request_records = 250')
    with trio.fail_after(60):
        async with running_agent(tmp_path, toml) as agent:
            await agent.send(metrics(600))
            stats = agent.stats.get("sink", "influxdb")
            assert stats is not None
            while stats.snapshot()["backlog_records"] < 600:  # noqa: ASYNC110 - a counter
                await trio.sleep(0.02)
            double.token = "s3cret"
            while stats.counters["records_out"] < 600:  # noqa: ASYNC110 - a counter
                await trio.sleep(0.02)
    training = sorted(p.time_ns for p in double.points if p.name == "fl_training")
    assert training == [T0 + i * 1_000_000 for i in range(600)]
    assert max(double.accepted) <= 250 and double.accepted.count(200) >= 2  # two queued batches of 100 per request
    assert stats.counters["dropped"] == 0


async def test_unreachable_influxdb_is_reported_and_the_backlog_grows(tmp_path: Path) -> None:
    toml = sink_toml(f"http://127.0.0.1:{free_port()}")
    with trio.fail_after(30):
        async with running_agent(tmp_path, toml, grace="300ms") as agent:
            await agent.send(metrics(30))
            stats = agent.stats.get("sink", "influxdb")
            assert stats is not None
            while stats.snapshot()["backlog_records"] < 30:  # noqa: ASYNC110 - a counter
                await trio.sleep(0.02)
            report = stats.snapshot()
            assert report["remote_status"] == "unreachable" and stats.status == "down"
            assert report["backlog_bytes"] > 30 * 40
            assert agent.health()["status"] == "degraded"


def test_encoder_escapes_and_types_roundtrip_through_a_line_protocol_parser() -> None:
    encoder = LineEncoder(integers="integer", precision="us")
    record = Metric("cpu load,x", {"a b": 1, "c=d": 2.5, "text": 'say "hi" \\ there', "ok": True,
                                   "nan": float("nan")},
                    time_ns=T0 + 1234, tags={"host name": "n,1", "e": "q=v"}, source="host", experiment="e 1",
                    round=4)
    line = encoder.line(record)
    assert line is not None and b"nan" not in line
    (parsed,) = parse(line.decode(), "us")
    assert parsed.name == "cpu load,x" and parsed.time_ns == T0 + 1000
    assert dict(parsed.fields) == {"a b": 1, "c=d": 2.5, "text": 'say "hi" \\ there', "ok": True}
    assert dict(parsed.tags) == {"host name": "n,1", "e": "q=v"}
    assert (parsed.source, parsed.experiment, parsed.round) == ("host", "e 1", 4)
    assert encoder.line(Metric("only_nan", {"x": float("inf")})) is None
    assert LineEncoder().line(Metric("m", {"n": 3}, time_ns=1)) == b"m,source=flcollector n=3.0 1"


async def test_escaped_names_reach_influxdb_intact(influx: InfluxServer, tmp_path: Path) -> None:
    odd = Metric("cpu load,x", {"a b": 1.5, "c=d": 2.5, "say": 'he said "hi" \\ twice\nand left'},
                 time_ns=T0, tags={"host name": "n,1", "e=q": "v=w"}, source="host")
    with trio.fail_after(60):
        async with running_agent(tmp_path, sink_toml(influx.url, 'database = "escapes"')) as agent:
            await agent.send([odd])
    (series,) = await trio.to_thread.run_sync(influx.query, 'SELECT * FROM "cpu load,x"', "escapes")
    row = dict(zip(series["columns"], series["values"][0], strict=True))
    assert row["a b"] == 1.5 and row["c=d"] == 2.5 and row["say"] == odd.fields["say"]
    assert row["host name"] == "n,1" and row["e=q"] == "v=w"
