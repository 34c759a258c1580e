"""``/api/v1/metrics`` and ``/api/v1/events``: filters, paging, ordering, and JSON errors for bad input."""

from __future__ import annotations

import pytest
import trio
from flcollector import Event, Metric

T0 = 1_750_000_000_000_000_000  # 2025-06-15T15:06:40Z


async def fill(running) -> None:
    await running.send(
        [
            Metric("cpu", {"percent": float(i)}, time_ns=T0 + i * 1_000_000_000, tags={"host": f"n{i % 2}"}, round=i)
            for i in range(10)
        ]
        + [Metric("mem", {"used": 1}, time_ns=T0, source="host")]
        + [
            Event(
                "ROUND_DONE",
                f"round {i}",
                time_ns=T0 + i,
                level="WARNING" if i % 3 == 0 else "INFO",
                source="fl_server",
            )
            for i in range(6)
        ]
    )


async def test_metrics_filters_by_name_tags_time_and_round(running) -> None:
    with trio.fail_after(10):
        await fill(running)
        get = running.client.get
        by_name = (await get("/api/v1/metrics", params={"name": "cpu", "limit": 100})).json()
        by_tag = (await get("/api/v1/metrics", params={"name": "cpu", "tag.host": "n1"})).json()
        by_time = (
            await get(
                "/api/v1/metrics",
                params={"name": "cpu", "from": "2025-06-15T15:06:42Z", "to": str((T0 + 4_000_000_000) / 1e9)},
            )
        ).json()
        by_round = (await get("/api/v1/metrics", params={"round": 7})).json()
        by_source = (await get("/api/v1/metrics", params={"source": "host"})).json()
    assert by_name["count"] == 10
    assert all(m["name"] == "cpu" for m in by_name["metrics"])
    assert {m["tags"]["host"] for m in by_tag["metrics"]} == {"n1"} and by_tag["count"] == 5
    assert sorted(m["round"] for m in by_time["metrics"]) == [2, 3, 4]
    assert [m["fields"]["percent"] for m in by_round["metrics"]] == [7.0]
    assert [m["name"] for m in by_source["metrics"]] == ["mem"]


async def test_metric_json_carries_the_record_dict_and_an_iso_timestamp(running) -> None:
    with trio.fail_after(10):
        await fill(running)
        body = (await running.client.get("/api/v1/metrics", params={"name": "mem"})).json()
    (metric,) = body["metrics"]
    assert metric["timestamp"] == "2025-06-15T15:06:40.000000Z"
    assert metric["time_ns"] == T0 and metric["kind"] == "metric"
    assert metric["experiment"] == "exp_test"  # stamped by the pipeline from [agent] experiment


async def test_metrics_paging_order_and_total(running) -> None:
    with trio.fail_after(10):
        await fill(running)
        page = (
            await running.client.get(
                "/api/v1/metrics", params={"name": "cpu", "limit": 3, "offset": 2, "order": "asc", "total": "true"}
            )
        ).json()
        newest = (await running.client.get("/api/v1/metrics", params={"name": "cpu", "limit": 1})).json()
    assert [m["round"] for m in page["metrics"]] == [2, 3, 4]
    assert page["total"] == 10 and page["limit"] == 3 and page["offset"] == 2
    assert newest["metrics"][0]["round"] == 9


async def test_events_since_id_is_a_cursor(running) -> None:
    with trio.fail_after(10):
        await fill(running)
        first = (await running.client.get("/api/v1/events", params={"limit": 4})).json()
        rest = (await running.client.get("/api/v1/events", params={"since_id": first["last_id"]})).json()
    ids = [e["id"] for e in first["events"] + rest["events"]]
    assert ids == sorted(ids) and len(set(ids)) == 6
    assert first["count"] == 4 and rest["count"] == 2
    assert rest["last_id"] == ids[-1]


async def test_events_filter_by_level_type_and_source(running) -> None:
    with trio.fail_after(10):
        await fill(running)
        warnings = (await running.client.get("/api/v1/events", params={"level": "warning"})).json()
        none = (await running.client.get("/api/v1/events", params={"type": "OTHER"})).json()
        fl = (await running.client.get("/api/v1/events", params={"source": "fl_server", "total": "1"})).json()
    assert {e["level"] for e in warnings["events"]} == {"WARNING"} and warnings["count"] == 2
    assert none["events"] == [] and none["last_id"] is None
    assert fl["total"] == 6


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": "ten"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "10001"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"from": "yesterday"}, "from"),
        ({"order": "sideways"}, "order"),
        ({"round": "x"}, "round"),
        ({"total": "maybe"}, "total"),
    ],
)
async def test_bad_metric_params_are_400_naming_the_param(running, params, param) -> None:
    with trio.fail_after(10):
        response = await running.client.get("/api/v1/metrics", params=params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["param"] == param and param in error["message"]


async def test_bad_event_params_are_400(running) -> None:
    with trio.fail_after(10):
        level = await running.client.get("/api/v1/events", params={"level": "LOUD"})
        since = await running.client.get("/api/v1/events", params={"since_id": "abc"})
    assert level.status_code == 400 and "LOUD" in level.json()["error"]["message"]
    assert since.status_code == 400 and since.json()["error"]["param"] == "since_id"


async def test_unknown_path_and_wrong_method_are_json(running) -> None:
    with trio.fail_after(10):
        missing = await running.client.get("/api/v1/nothing")
        wrong = await running.client.post("/api/v1/metrics")
    assert missing.status_code == 404 and missing.json()["error"]["status"] == 404
    assert wrong.status_code == 405 and wrong.json()["error"]["status"] == 405
    assert "GET" in wrong.headers["allow"]


async def test_head_works_on_get_routes(running) -> None:
    with trio.fail_after(10):
        for path in ("/health", "/api/v1/metrics", "/api/v1/events", "/api/v1/status", "/metrics", "/openapi.json"):
            response = await running.client.head(path)
            assert response.status_code == 200, path
            assert response.content == b""


async def test_metric_names(running) -> None:
    with trio.fail_after(10):
        await fill(running)
        body = (await running.client.get("/api/v1/metrics/names")).json()
    assert body["names"] == ["cpu", "mem"]


FAR_TIMES = [
    ("/api/v1/metrics", {"from": "2999-01-01T00:00:00Z"}, "metrics"),
    ("/api/v1/events", {"from": "2999-01-01T00:00:00Z"}, "events"),
    ("/api/v1/metrics", {"to": "-7.5e306"}, "metrics"),
    ("/api/v1/fl/metrics", {"from": "2999-01-01T00:00:00Z"}, "global_metrics"),
    ("/api/v1/fl/metrics", {"to": "-7.5e306"}, "global_metrics"),
    ("/api/metrics", {"start_time": "2999-01-01T00:00:00Z"}, "metrics"),
    ("/api/events", {"end_time": "-7.5e306"}, "events"),
    ("/api/metrics/fl", {"start_time": "2999-01-01T00:00:00Z"}, "metrics"),
    ("/api/policy/decisions", {"start_time": "2999-01-01T00:00:00Z"}, None),
]


@pytest.mark.parametrize(("path", "params", "key"), FAR_TIMES)
async def test_a_time_beyond_the_store_is_an_empty_answer(running, path: str, params: dict, key: str | None) -> None:
    """Issue 8 item 5: ``from=2999-01-01T00:00:00Z`` or ``start_time=-7.5e306`` is well formed: an empty answer."""
    with trio.fail_after(10):
        await fill(running)
        response = await running.client.get(path, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        found = body if key is None else body[key]
        assert not found or found.get("rounds") == []
