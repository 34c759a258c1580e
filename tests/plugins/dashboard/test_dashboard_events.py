"""The dashboard's event routes: ``/api/events`` (with the ``since_id`` cursor), ``/api/events/summary`` and
``/api/policy/decisions``, from events stored through the pipeline (which assigns the ids)."""

from __future__ import annotations

from pathlib import Path

import trio
from dashboard_helpers import SECOND, T0, decision, running_dashboard
from flcollector import Event, Record
from flcollector.records import Level

LEVELS: list[Level] = ["INFO", "INFO", "WARNING", "ERROR", "INFO"]


def _events(count: int, offset: int = 0) -> list[Record]:
    return [
        Event(
            f"TYPE_{(offset + i) % 3}",
            f"event {offset + i}",
            T0 + (offset + i) * SECOND,
            source="fl_server" if (offset + i) % 2 else "sdn_controller",
            level=LEVELS[(offset + i) % len(LEVELS)],
            details={"n": offset + i},
        )
        for i in range(count)
    ]


async def test_events_list_shape_filters_and_pagination(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/events", limit=20, offset=0)
            assert empty["events"] == [] and empty["total"] == 0 and empty["limit"] == 20
            await dash.send(_events(10))
            page = await dash.get("/api/events", limit=4, offset=2)
            assert page["total"] == 10 and page["limit"] == 4 and page["offset"] == 2
            assert [e["details"]["n"] for e in page["events"]] == [7, 6, 5, 4]  # newest first
            item = page["events"][0]
            assert isinstance(item["id"], int) and item["timestamp"] == "2025-06-15T15:06:47.000000+00:00"
            assert item["source_component"] == item["component"] == "fl_server"
            assert item["event_type"] == "TYPE_1" and item["level"] == "WARNING" and item["message"] == "event 7"
            levels = await dash.get("/api/events", event_level="warning", limit=50)
            assert levels["total"] == 2 and {e["level"] for e in levels["events"]} == {"WARNING"}
            both = await dash.get("/api/events", level="ERROR", component="sdn_controller")
            assert [e["details"]["n"] for e in both["events"]] == [8]
            typed = await dash.get("/api/events", event_type="TYPE_0", source_component="fl_server")
            assert [e["details"]["n"] for e in typed["events"]] == [9, 3]
            unfiltered = await dash.get("/api/events", event_level="all", source_component="all", event_type="")
            assert unfiltered["total"] == 10  # a UI's "all" choice means no filter
            timed = await dash.get("/api/events", start_time="2025-06-15T15:06:48Z")
            assert timed["total"] == 2  # unlike upstream, total honours the time filter
            capped = await dash.get("/api/events", limit=10**6)
            assert capped["limit"] == 1000
            for params, name in (
                ({"event_level": "LOUD"}, "event_level"),
                ({"since_id": "abc"}, "since_id"),
                ({"limit": "-5"}, "limit"),
            ):
                bad = await dash.client.get("/api/events", params=params)
                assert bad.status_code == 400 and bad.json()["param"] == name


async def test_since_id_walks_forward_without_gaps_or_repeats(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(_events(30))
            # the WebSocket feed: first the newest 100, then since_id=<max id>&limit=50 every 5 s
            first = await dash.get("/api/events", limit=100)
            cursor = max(e["id"] for e in first["events"])
            assert (await dash.get("/api/events", since_id=cursor, limit=50))["events"] == []
            await dash.send(_events(25, offset=30))
            seen: list[int] = []
            while True:
                batch = (await dash.get("/api/events", since_id=cursor, limit=10))["events"]
                if not batch:
                    break
                ids = [e["id"] for e in batch]
                assert ids == sorted(ids) and ids[0] > cursor  # ascending, strictly after the cursor
                seen += [e["details"]["n"] for e in batch]
                cursor = ids[-1]
            assert seen == list(range(30, 55))


async def test_events_summary_counts_by_level_component_and_type(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            empty = await dash.get("/api/events/summary")
            assert empty["total"] == 0 and empty["by_level"]["ERROR"] == 0
            await dash.send(_events(10))
            body = await dash.get("/api/events/summary")
            assert body["total"] == 10
            assert body["by_level"] == {"DEBUG": 0, "INFO": 6, "WARNING": 2, "ERROR": 2, "CRITICAL": 0}
            assert body["by_component"] == {"fl_server": 5, "sdn_controller": 5}
            assert body["by_type"] == {"TYPE_0": 4, "TYPE_1": 3, "TYPE_2": 3}
            filtered = await dash.get("/api/events/summary", source_component="fl_server", event_level="INFO")
            assert filtered["total"] == 3 and filtered["by_component"] == {"fl_server": 3}


async def test_policy_decisions_come_from_stored_decision_events(tmp_path: Path) -> None:
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            assert await dash.get("/api/policy/decisions") == []
            await dash.send(
                [decision(i, allowed=i % 3 != 0, component="fl-client" if i % 2 else "fl-server") for i in range(1, 10)]
            )
            body = await dash.get("/api/policy/decisions", limit=500)
            assert isinstance(body, list) and len(body) == 9
            assert body[0]["id"] == "decision_9" and body[0]["policy_name"] == "client-trust"  # newest first
            assert body[0]["timestamp"] == "2025-06-15T15:06:49.000000+00:00"
            denied = await dash.get("/api/policy/decisions", result="false")
            assert [d["id"] for d in denied] == ["decision_9", "decision_6", "decision_3"]
            clients = await dash.get("/api/policy/decisions", component="fl-client", policy_id="p1", limit=2)
            assert [d["id"] for d in clients] == ["decision_9", "decision_7"]
            windowed = await dash.get("/api/policy/decisions", start_time=str((T0 + 8 * SECOND) / 1e9))
            assert [d["id"] for d in windowed] == ["decision_9", "decision_8"]
            bad = await dash.client.get("/api/policy/decisions", params={"result": "perhaps"})
            assert bad.status_code == 400 and bad.json()["param"] == "result"
