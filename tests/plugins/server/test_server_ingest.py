"""Ingest: ``POST /api/v1/ingest`` (JSON records) and line protocol on ``/write`` and ``/api/v2/write``."""

from __future__ import annotations

import gzip

import orjson
import trio
from flcollector.plugins.server.routes.ingest import INLINE_BYTES


async def test_json_ingest_goes_through_the_pipeline(running) -> None:
    body = {
        "metrics": [
            {"name": "gpu", "fields": {"temp": 61.5}, "tags": {"node": "c1"}, "timestamp": "2025-01-16T10:30:00Z"},
            {"name": "gpu", "fields": {"temp": 60}, "time_ns": 1_737_023_400_000_000_000, "round": 2},
        ],
        "events": [{"type": "CLIENT_JOINED", "message": "c1 joined", "level": "INFO", "id": 5}],
    }
    with trio.fail_after(10):
        response = await running.client.post("/api/v1/ingest", json=body)
        assert response.status_code == 200, response.text
        await running.store.wait_for(3)
    assert response.json() == {"accepted": {"metrics": 2, "events": 1}}
    first, second = sorted(await running.stored_metrics(), key=lambda m: m.fields["temp"])
    assert first.time_ns == 1_737_023_400_000_000_000 and first.round == 2
    assert second.tags == {"node": "c1"} and second.experiment == "exp_test"
    (event,) = await running.stored_events()
    assert event.id is not None and event.id != 5  # ids are the pipeline's, never the client's


async def test_json_ingest_is_all_or_nothing_and_names_the_index(running) -> None:
    body = {
        "metrics": [{"name": "ok", "fields": {"v": 1}}, {"fields": {"v": 2}}, "oops"],
        "events": [{"type": "X", "level": "LOUD"}],
    }
    with trio.fail_after(10):
        response = await running.client.post("/api/v1/ingest", json=body)
        count = (await running.client.get("/api/v1/metrics", params={"total": "1"})).json()["total"]
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"].startswith("metrics[1]:") and "nothing was accepted" in error["message"]
    assert [e["index"] for e in error["errors"]] == ["metrics[1]", "metrics[2]", "events[0]"]
    assert error["error_count"] == 3
    assert count == 0


async def test_json_ingest_rejects_non_json_and_wrong_shapes(running) -> None:
    with trio.fail_after(10):
        not_json = await running.client.post("/api/v1/ingest", content=b"{nope")
        wrong = await running.client.post("/api/v1/ingest", json={"records": []})
        not_list = await running.client.post("/api/v1/ingest", json={"metrics": {}})
        bad_time = await running.client.post(
            "/api/v1/ingest", json={"metrics": [{"name": "m", "fields": {"v": 1}, "timestamp": "later"}]}
        )
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["error"]["message"]
    assert wrong.status_code == 400
    assert not_list.status_code == 400 and not_list.json()["error"]["errors"][0]["index"] == "metrics"
    assert bad_time.status_code == 400 and "timestamp" in bad_time.json()["error"]["message"]


async def test_a_big_json_body_is_decoded_in_pieces_all_or_nothing(running) -> None:
    # over INLINE_BYTES: decoded a list item at a time on the event loop (jsonpieces), not by orjson whole
    metrics = [{"name": "bulk", "fields": {"v": i, "pad": "x" * 40}, "time_ns": 10**18 + i} for i in range(6_000)]
    good = orjson.dumps({"events": [{"type": "BULK", "message": "ok"}], "metrics": metrics})
    bad = orjson.dumps({"metrics": [*metrics, {"name": "late", "fields": {"v": 1}, "time_ns": "soon"}]})
    trailing = good + b" ]"
    assert len(good) > INLINE_BYTES
    with trio.fail_after(30):
        refused = await running.client.post("/api/v1/ingest", content=bad)
        broken = await running.client.post("/api/v1/ingest", content=trailing)
        response = await running.client.post("/api/v1/ingest", content=good)
        await running.store.wait_for(6_001)
    assert refused.status_code == 400 and refused.json()["error"]["message"].startswith("metrics[6000]")
    assert broken.status_code == 400 and "not JSON" in broken.json()["error"]["message"]
    assert response.status_code == 200 and response.json() == {"accepted": {"metrics": 6_000, "events": 1}}
    stored = await running.stored_metrics()
    assert sorted(m.fields["v"] for m in stored) == list(range(6_000))


async def test_line_protocol_write_v1_and_v2(running) -> None:
    lines = "cpu,host=n1 usage=0.5 1700000000\ncpu,host=n2 usage=0.7,cores=4i 1700000001\n"
    with trio.fail_after(10):
        v1 = await running.client.post("/write", params={"db": "fl", "precision": "s"}, content=lines)
        v2 = await running.client.post(
            "/api/v2/write", params={"bucket": "fl", "precision": "ms"}, content=b"mem used=1i 1700000000000"
        )
        await running.store.wait_for(3)
    assert v1.status_code == 204 and v2.status_code == 204
    by_host = {m.tags.get("host"): m for m in await running.stored_metrics()}
    assert by_host["n2"].fields == {"usage": 0.7, "cores": 4}
    assert by_host["n1"].time_ns == 1_700_000_000 * 10**9
    assert by_host[None].time_ns == 1_700_000_000_000 * 10**6
    assert running.server.runtime.stats.counters["records_in"] == 3


async def test_line_protocol_errors_name_the_line(running) -> None:
    with trio.fail_after(10):
        response = await running.client.post("/write", content="a v=1\nb v=2\nc v=oops\n")
        precision = await running.client.post("/write", params={"precision": "d"}, content="a v=1")
        binary = await running.client.post("/write", content=b"\xff\xfe")
        total = (await running.client.get("/api/v1/metrics", params={"total": "1"})).json()["total"]
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["line"] == 3 and "line 3" in error["message"] and "'v'" in error["message"]
    assert precision.status_code == 400 and precision.json()["error"]["param"] == "precision"
    assert binary.status_code == 400 and "UTF-8" in binary.json()["error"]["message"]
    assert total == 0


async def test_gzip_body(running) -> None:
    with trio.fail_after(10):
        response = await running.client.post(
            "/write", content=gzip.compress(b"z v=1i"), headers={"content-encoding": "gzip"}
        )
        await running.store.wait_for(1)
    assert response.status_code == 204 and (await running.stored_metrics())[0].fields == {"v": 1}


async def test_body_limit_is_413(start_server) -> None:
    agent = await start_server("max_body_bytes = 100\n")
    url = agent.find("listener", "server").url
    import httpx

    async def chunks():
        for _ in range(10):
            yield b"m v=1i\n" * 5  # streamed without a Content-Length

    with trio.fail_after(10):
        async with httpx.AsyncClient(base_url=url) as client:
            declared = await client.post("/write", content=b"m v=1i\n" * 50)
            streamed = await client.post("/write", content=chunks())
            bomb = await client.post(
                "/write", content=gzip.compress(b"m v=1i\n" * 1000), headers={"content-encoding": "gzip"}
            )
            small = await client.post("/api/v1/ingest", json={"metrics": []})
    assert declared.status_code == 413 and "max_body_bytes" in declared.json()["error"]["message"]
    assert streamed.status_code == 413 and bomb.status_code == 413
    assert small.status_code == 200
    agent.stop()


async def test_poison_values_are_400s_naming_the_line_or_field(running) -> None:
    """Issue 13, items 1 and 8: each of these was a 2xx whose batch the store then dropped, or a 500."""
    lines = {
        "pp v=1 99999999999999999999999": "line 1: timestamp",
        "pp v=1 3000000": "line 1: timestamp",  # with precision=h: beyond 2262 once scaled
        "pp,round=1e23 v=1": "line 1: tag 'round'",
        f"pp,round={'9' * 5000} v=1": "line 1: tag 'round'",
        "pp v=18446744073709551615u": "line 1: field 'v'",
    }
    records = {
        '{"metrics": [{"name": "m", "fields": {"v": 1}, "tags": {"a": {"b": 1}}}]}':
            "metrics[0]: not a valid metric: must be a string",
        '{"metrics": [{"name": "m", "fields": {"v": 1}, "time_ns": "1700000000000000000"}]}': "$.time_ns",
        '{"metrics": [{"name": "m", "fields": {"v": 1}, "time_ns": 1.7e18}]}': "$.time_ns",
        '{"metrics": [{"name": "m", "fields": {"v": 1}, "time_ns": -1}]}': "metrics[0]: time_ns: -1 is out of range",
        '{"metrics": [{"name": "m", "fields": {"v": 1}, "round": -1}]}': "metrics[0]: round: -1 is out of range",
        '{"metrics": [{"name": "m", "fields": {"v": 1}, "round": 18446744073709551615}]}':
            "round: 18446744073709551615",
        '{"events": [{"type": "X", "time_ns": 18446744073709551615}]}': "events[0]: time_ns",
    }
    with trio.fail_after(20):
        for body, words in lines.items():
            precision = "h" if body.endswith(" 3000000") else "ns"
            response = await running.client.post("/write", params={"precision": precision}, content=body)
            assert response.status_code == 400, (body, response.text)
            assert words in response.json()["error"]["message"], response.text
        for body, words in records.items():
            response = await running.client.post("/api/v1/ingest", content=body)
            assert response.status_code == 400, (body, response.text)
            assert words in response.json()["error"]["message"], response.text
        total = (await running.client.get("/api/v1/metrics", params={"total": "1"})).json()["total"]
    assert total == 0
