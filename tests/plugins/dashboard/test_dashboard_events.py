"""The dashboard's event routes: ``/api/events`` (with the ``since_id`` cursor), ``/api/events/summary`` and
``/api/policy/decisions``, from events stored through the pipeline (which assigns the ids)."""

from __future__ import annotations

from pathlib import Path

import trio
from dashboard_helpers import SECOND, T0, decision, running_dashboard
from flcollector import Event, Record
from flcollector.plugins.fl.convert import fl_event
from flcollector.plugins.policy.convert import engine_event
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
            assert item["source_component"] == item["component"] == "FL_SERVER"
            assert item["event_type"] == "TYPE_1" and item["level"] == "WARNING" and item["message"] == "event 7"
            levels = await dash.get("/api/events", event_level="warning", limit=50)
            assert levels["total"] == 2 and {e["level"] for e in levels["events"]} == {"WARNING"}
            both = await dash.get("/api/events", level="ERROR", component="SDN_CONTROLLER")
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
            assert body["by_component"] == {"FL_SERVER": 5, "SDN_CONTROLLER": 5}
            assert body["by_type"] == {"TYPE_0": 4, "TYPE_1": 3, "TYPE_2": 3}
            filtered = await dash.get("/api/events/summary", source_component="FL_SERVER", event_level="INFO")
            assert filtered["total"] == 3 and filtered["by_component"] == {"FL_SERVER": 3}


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


def _source_events() -> list[Record]:
    """Events as the fl and policy monitors store them (their own converters), and one the agent made itself."""
    fl = [
        fl_event(
            {
                "event_id": f"6f1c9a3e-0000-4000-8000-00000000000{n}",
                "timestamp": (T0 + n * SECOND) / 1e9,
                "source_component": "FL_SERVER",
                "event_type": "ROUND_COMPLETED",
                "details": {"round": n, "accuracy": 0.5 + n / 100},
            },
            experiment=None,
        )
        for n in (1, 2)
    ]
    policy = engine_event(
        {"id": "ev-17", "type": "POLICY_LOADED", "timestamp": (T0 + 3 * SECOND) / 1e9, "source": "POLICY_ENGINE"}
    )
    ours = Event("SOURCE_RECOVERED", "fl is back", T0 + 4 * SECOND, source="flcollector")
    return [*fl, policy, ours]


async def test_events_show_flopynet_component_names_and_the_sources_own_ids(tmp_path: Path) -> None:
    """Issue 8 item 2: ``source_component`` as FLOPY-NET writes it, ``component=FL_SERVER`` finds the FL server's
    events, ``by_component`` is keyed by those names, and ``event_id`` is the source's own id."""
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(_source_events())
            rows = (await dash.get("/api/events", limit=10))["events"]
            by_type = {row["event_type"]: row for row in rows}
            assert [row["source_component"] for row in rows] == ["COLLECTOR", "POLICY_ENGINE", "FL_SERVER", "FL_SERVER"]
            assert all(row["component"] == row["source_component"] for row in rows)
            assert by_type["POLICY_LOADED"]["event_id"] == "ev-17"
            assert by_type["SOURCE_RECOVERED"]["event_id"] == str(by_type["SOURCE_RECOVERED"]["id"])  # our own event
            fl_rows = (await dash.get("/api/events", component="FL_SERVER"))["events"]
            assert [row["event_id"] for row in fl_rows] == [
                "6f1c9a3e-0000-4000-8000-000000000002",
                "6f1c9a3e-0000-4000-8000-000000000001",
            ]
            assert all(isinstance(row["id"], int) for row in fl_rows)  # our integer stays the cursor
            same = await dash.get("/api/events", source_component="fl_server")  # our spelling works as well
            assert [row["event_id"] for row in same["events"]] == [row["event_id"] for row in fl_rows]
            summary = await dash.get("/api/events/summary")
            assert summary["by_component"] == {"COLLECTOR": 1, "FL_SERVER": 2, "POLICY_ENGINE": 1}
            assert summary["by_source_component"] == summary["by_component"]
            only_policy = await dash.get("/api/events/summary", component="POLICY_ENGINE")
            assert only_policy["total"] == 1 and only_policy["by_component"] == {"POLICY_ENGINE": 1}


async def test_event_pages_are_ordered_by_time_newest_first(tmp_path: Path) -> None:
    """Issue 8 item 3: backfilled and snapshot events arrive out of time order; a page is newest first by time
    (ties by id), while ``since_id`` still means "id greater than", oldest id first."""
    seconds = [5, 1, 3, 3, 2, 4]  # the order the pipeline stores (and numbers) them
    events: list[Record] = [
        Event("TICK", f"n{i}", T0 + s * SECOND, source="fl_server", details={"n": i}) for i, s in enumerate(seconds)
    ]
    with trio.fail_after(10):
        async with running_dashboard(tmp_path) as dash:
            await dash.send(events)
            page = (await dash.get("/api/events", limit=4))["events"]
            assert [row["details"]["n"] for row in page] == [0, 5, 3, 2]  # 5 s, 4 s, then the 3 s tie by id
            rest = (await dash.get("/api/events", limit=4, offset=4))["events"]
            assert [row["details"]["n"] for row in rest] == [4, 1]
            stamps = [row["timestamp"] for row in page + rest]
            assert stamps == sorted(stamps, reverse=True)
            first_id = min(row["id"] for row in page + rest)
            forward = (await dash.get("/api/events", since_id=first_id))["events"]
            assert [row["details"]["n"] for row in forward] == [1, 2, 3, 4, 5]  # by id, whatever the times
