"""The ``fl`` monitor against the emulated FL server, in every fault mode, asserting exactly-once storage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import trio
from fl_helpers import (
    assert_exactly_once,
    back_up,
    collect,
    collect_down,
    event_ids,
    one_poll,
    produced_round_keys,
    round_keys,
)
from flcollector import Event, MalformedResponse, Metric, Record, RunContext, component_name
from flcollector.emulators.fl_server import FlServerEmulator
from flcollector.plugins.fl.convert import time_ns_of
from flcollector.plugins.fl.monitor import FlMonitor

Build = Callable[..., FlMonitor]


def of_type(records: list[Record], type_: str) -> list[Event]:
    """The events of ``type_``."""
    return [r for r in records if isinstance(r, Event) and r.type == type_]


def named(records: list[Record], name: str) -> list[Metric]:
    """The metrics called ``name``."""
    return [r for r in records if isinstance(r, Metric) and r.name == name]


async def steps(emulator: FlServerEmulator, n: int) -> None:
    """Complete ``n`` rounds."""
    for _ in range(n):
        await emulator.step()


async def test_rounds_events_and_status_are_stored_exactly_once(
    fl_server: FlServerEmulator, fl_monitor: Build, run_context: RunContext
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 3)
        await collect(monitor, records)
        await steps(fl_server, 2)
        await collect(monitor, records)
        await collect(monitor, records)  # nothing new: nothing stored again
        await monitor.close()
    assert_exactly_once(records, fl_server)
    rounds = sorted(named(records, "fl_round"), key=lambda m: m.round or 0)
    assert [m.round for m in rounds] == [1, 2, 3, 4, 5]
    assert rounds[0].source == "fl_server" and rounds[0].experiment is not None
    assert not named(records, "fl_client")  # the FL server exposes nothing per identified client
    # one fl_server snapshot per poll, round set to the current round
    snapshots = named(records, "fl_server")
    assert len(snapshots) == 3 and snapshots[-1].fields["current_round"] == 5 == snapshots[-1].round
    assert snapshots[-1].fields["training_active"] is True and snapshots[-1].fields["connected_clients"] == 4
    # the run context: experiment named from CONFIG_LOADED and the server start, round and phase
    assert run_context.experiment is not None and run_context.experiment.startswith("cnn-mnist-")
    assert run_context.round == 5 and run_context.phase == "active"
    assert [e.details["status"] for e in of_type(records, "TRAINING_STATUS_CHANGED")] == ["active"]


async def test_a_round_reads_the_real_row_and_its_events(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    records = await one_poll(fl_monitor(), fl_server, 2)
    [metric] = [m for m in named(records, "fl_round") if m.round == 2]
    row = fl_server.rounds[2]
    raw, details = row["raw_metrics"], {e["event_type"]: e["details"] for e in fl_server.produced_events[6:]}
    fields = metric.fields
    assert metric.time_ns == time_ns_of(row["timestamp"])  # the server's time of the round
    quality = (fields["accuracy"], fields["loss"], fields["model_size_mb"])
    assert quality == (row["accuracy"], row["loss"], row["model_size_mb"])
    assert fields["training_duration_s"] == row["training_duration"] == fields["total_duration_s"]
    # per-phase times from the row's phase_durations and *_start_time values
    assert fields["aggregation_duration_s"] == raw["phase_durations"]["aggregation"]
    assert fields["evaluation_duration_s"] == raw["phase_durations"]["evaluation"]
    assert fields["fit_phase_s"] == pytest.approx(raw["aggregation_start_time"] - raw["round_start_time"])
    waited = raw["evaluation_start_time"] - raw["aggregation_start_time"] - raw["phase_durations"]["aggregation"]
    assert fields["evaluate_phase_s"] == pytest.approx(waited)
    # what only the events say: clients that trained or failed, the spread of the clients' times
    aggregated, evaluated = details["AGGREGATION_COMPLETED"], details["EVALUATION_COMPLETED"]
    assert fields["clients_selected"] == details["ROUND_STARTED"]["selected_clients"] == 4
    succeeded = (aggregated["successful_clients"], aggregated["failed_clients"])
    assert (fields["clients_succeeded"], fields["clients_failed"]) == succeeded
    assert fields["evaluations_succeeded"] == evaluated["successful_evaluations"] == raw["evaluation_results_count"]
    assert fields["config_duration_s"] == details["ROUND_STARTED"]["config_duration"]
    assert fields["client_training_time_max_s"] == max(aggregated["client_training_durations"])
    assert fields["client_evaluation_time_avg_s"] == raw["client_timing_stats"]["evaluation"]["average_time"]
    assert fields["status"] == "complete"


async def test_rows_whose_events_are_gone_keep_what_the_row_says(
    make_component: Callable[..., Any], nursery: trio.Nursery
) -> None:
    server = FlServerEmulator(num_clients=3, max_rounds=10, seed=4, buffer_size=8)  # the last two rounds' events
    await nursery.start(server.serve)
    await steps(server, 5)
    with trio.fail_after(10):
        monitor = make_component(FlMonitor, {"url": server.url})
        await monitor.open()
        records = await collect(monitor, [])
        await monitor.close()
    by_round = {m.round: m.fields for m in named(records, "fl_round")}
    assert sorted(by_round) == [1, 2, 3, 4, 5]
    old, recent = by_round[1], by_round[5]
    assert "client_training_time_avg_s" not in old and "client_training_time_avg_s" in recent
    assert old["clients_succeeded"] == server.rounds[1]["raw_metrics"]["evaluation_results_count"]
    assert old["aggregation_duration_s"] == server.rounds[1]["raw_metrics"]["phase_durations"]["aggregation"]


async def test_the_newest_row_waits_one_poll_for_its_completion_events(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    fl_server.delay_round_events = True  # the row is written, EVALUATION/ROUND_COMPLETED come a moment later
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 1)
        first = await collect(monitor, records)
        fl_server.flush_events()
        second = await collect(monitor, records)
        await steps(fl_server, 1)
        fl_server.break_path("/events")  # round 2's events never arrive: the row goes out anyway
        await collect(monitor, records)
        third = await collect(monitor, records)
        fl_server.broken_paths.clear()
        await collect(monitor, records)
        await monitor.close()
    assert not named(first, "fl_round") and [m.round for m in named(second, "fl_round")] == [1]
    assert named(second, "fl_round")[0].fields["client_evaluation_time_max_s"] > 0  # from EVALUATION_COMPLETED
    assert [m.round for m in named(third, "fl_round")] == [2]
    assert_exactly_once(records, fl_server)


async def test_events_keep_server_time_level_id_and_payload(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    records = await one_poll(fl_monitor(), fl_server, 1)
    completed = of_type(records, "ROUND_COMPLETED")[0]
    raw = next(e for e in fl_server.produced_events if e["event_type"] == "ROUND_COMPLETED")
    assert completed.details == raw["details"] and completed.origin_id == raw["event_id"]
    assert completed.round == 1 and completed.source == "fl_server" and component_name(completed.source) == "FL_SERVER"
    assert completed.level == "INFO" and "round 1" in completed.message
    assert completed.time_ns == time_ns_of(raw["timestamp"])


async def test_an_event_of_another_component_keeps_its_spelling(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    event = fl_server.emit("CLIENT_JOINED", {"round": 0})
    event["source_component"] = "FL_CLIENT"
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records = await collect(monitor, [])
        await monitor.close()
    [joined] = of_type(records, "CLIENT_JOINED")
    assert joined.source == "fl_client" and component_name(joined.source) == "FL_CLIENT"
    assert joined.origin_id == event["event_id"]


async def test_configured_experiment_is_never_overridden(
    fl_server: FlServerEmulator, fl_monitor: Build, run_context: RunContext
) -> None:
    run_context.experiment = "exp_2025_001"
    records = await one_poll(fl_monitor(), fl_server, 2)
    assert run_context.experiment == "exp_2025_001"
    assert {r.experiment for r in records if r.source == "fl_server"} == {"exp_2025_001"}


async def test_down_raises_and_rounds_missed_meanwhile_are_backfilled(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 2)
        await collect(monitor, records)
        fl_server.set_fault("down")
        await steps(fl_server, 3)  # training goes on while we cannot reach the server
        assert fl_server.url in await collect_down(monitor)
        await back_up(fl_server)
        await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, fl_server)


async def test_slow_server_times_out_as_unavailable_then_nothing_is_lost(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor(request_timeout="100ms")
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 2)
        await collect(monitor, records)
        fl_server.set_fault("slow", slow_delay=0.5)
        await steps(fl_server, 2)
        assert "Timeout" in await collect_down(monitor)
        fl_server.set_fault("slow", slow_delay=0.01)  # slow but within the timeout: data flows
        await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, fl_server)


async def test_collection_cut_short_by_the_core_timeout_changes_no_state(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 2)
        await collect(monitor, records)
        await steps(fl_server, 2)
        fl_server.set_fault("slow", slow_delay=0.3)
        with trio.move_on_after(0.1):  # what the scheduler's fail_after does to an overrunning collect()
            await collect(monitor, records)
            pytest.fail("the collection should have been cancelled")
        await back_up(fl_server)
        await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, fl_server)


async def test_http_500_everywhere_is_unavailable(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 1)
        fl_server.set_fault("error")
        assert "HTTP 500" in await collect_down(monitor)
        await back_up(fl_server)
        await steps(fl_server, 1)
        await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, fl_server)


async def test_malformed_everywhere_raises_malformed_response(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        fl_server.set_fault("malformed")
        with pytest.raises(MalformedResponse, match="not JSON"):
            await monitor.collect()
        await back_up(fl_server)
        await steps(fl_server, 1)
        records = await collect(monitor, [])
        await monitor.close()
    assert_exactly_once(records, fl_server)


@pytest.mark.parametrize("endpoint", ["/metrics", "/status", "/events", "/rounds", "/rounds/latest"])
async def test_one_malformed_endpoint_is_reported_and_the_rest_kept(
    fl_server: FlServerEmulator, fl_monitor: Build, endpoint: str
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 2)
        fl_server.break_path(endpoint)
        bad = await collect(monitor, records)
        fl_server.broken_paths.clear()
        await steps(fl_server, 1)
        await collect(monitor, records)
        await monitor.close()
    errors = of_type(bad, "MALFORMED_RESPONSE")
    assert [e.details["endpoint"] for e in errors] == [endpoint] and errors[0].level == "ERROR"
    assert monitor.runtime.stats.counters["malformed"] == 1
    if endpoint != "/events":
        assert event_ids(bad), "the events were kept"
    if endpoint not in ("/rounds", "/rounds/latest"):
        assert round_keys(bad), "the rounds were kept"
    assert_exactly_once(records, fl_server)


async def test_cursor_reset_is_detected_and_stores_nothing_twice(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 3)
        await collect(monitor, records)
        await steps(fl_server, 1)
        fl_server.cursor_reset()
        await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, fl_server)
    assert monitor.feed.resets == 1
    assert monitor.runtime.stats.extra["fl"]["cursor_resets"] == 1


async def test_events_are_paged_past_the_server_page_and_evicted_cursor(
    make_component: Callable[..., Any], nursery: trio.Nursery
) -> None:
    server = FlServerEmulator(num_clients=3, max_rounds=40, seed=3, buffer_size=30)
    await nursery.start(server.serve)
    with trio.fail_after(10):
        monitor = make_component(FlMonitor, {"url": server.url, "events_page_size": 4, "rounds_page_size": 3})
        await monitor.open()
        records: list[Record] = []
        await steps(server, 5)  # 22 events in a buffer of 30: read in pages of 4
        await collect(monitor, records)
        await steps(server, 2)
        await collect(monitor, records)
        await steps(server, 7)  # 28 new events: our cursor is evicted, the server answers from its start
        await collect(monitor, records)
        await monitor.close()
    assert max(event_ids(records).values()) == 1
    assert set(event_ids(records)) == {e["event_id"] for e in server.produced_events}
    assert set(round_keys(records)) == produced_round_keys(server) and max(round_keys(records).values()) == 1


async def test_a_server_restart_is_a_new_run_whose_rows_replace_the_old_ones(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 3)
        await collect(monitor, records)
        experiment = monitor.experiment
        fl_server.set_fault("down")
        fl_server.restart()  # a new process: fresh buffer and metrics; its rounds are numbered from 1 again
        await collect_down(monitor)
        await back_up(fl_server)
        await steps(fl_server, 2)
        await collect(monitor, records)
        await steps(fl_server, 1)
        await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, fl_server)
    assert len(of_type(records, "SERVER_START")) == 2 and len(of_type(records, "FL_RUN_RESTARTED")) == 1
    assert monitor.experiment != experiment
    new_rounds = [m for m in named(records, "fl_round") if m.experiment != experiment]
    assert sorted(m.round or 0 for m in new_rounds) == [1, 2, 3]


async def test_a_training_restarted_by_policy_numbers_rounds_from_1_in_the_same_process(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 4)
        fl_server.stop_by_policy("energy budget")
        await collect(monitor, records)
        experiment = monitor.experiment
        fl_server.restart_training()  # same start_time, same event buffer: Flower counts from 1 again
        await collect(monitor, records)
        for _ in range(3):
            await steps(fl_server, 1)
            await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, fl_server)
    assert len(of_type(records, "FL_RUN_RESTARTED")) == 1 and monitor.experiment != experiment
    rerun = sorted(m.round or 0 for m in named(records, "fl_round") if m.experiment != experiment)
    assert rerun == [1, 2, 3]
    changes = [e.details["status"] for e in of_type(records, "TRAINING_STATUS_CHANGED")]
    assert changes == ["stopped_by_policy", "active"]


async def test_backfill_disabled_skips_rounds_finished_before_start(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        await steps(fl_server, 3)
        monitor = fl_monitor(backfill=False)
        await monitor.open()
        records = await collect(monitor, [])
        assert not round_keys(records)
        await steps(fl_server, 2)
        records = await collect(monitor, [])
        await monitor.close()
    assert sorted(r for r, _ in round_keys(records)) == [4, 5]


async def test_training_status_changes_are_events(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    fl_server.max_rounds = 3
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await collect(monitor, records)  # waiting for clients
        await steps(fl_server, 1)
        await collect(monitor, records)
        fl_server.pause("bandwidth policy")
        await collect(monitor, records)
        await collect(monitor, records)  # unchanged: no event
        fl_server.resume()
        await steps(fl_server, 2)
        await collect(monitor, records)
        await monitor.close()
    changes = [e.details["status"] for e in of_type(records, "TRAINING_STATUS_CHANGED")]
    assert changes == ["waiting_for_clients", "active", "paused", "complete"]
    assert named(records, "fl_server")[-1].fields["training_complete"] is True
    assert of_type(records, "TRAINING_PAUSED_BY_POLICY")[0].level == "INFO"


async def test_stop_by_policy_is_a_warning_and_a_status(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        await steps(fl_server, 1)
        fl_server.stop_by_policy("energy budget")
        records = await collect(monitor, [])
        await monitor.close()
    assert of_type(records, "TRAINING_STOPPED_BY_POLICY")[0].level == "WARNING"
    assert of_type(records, "TRAINING_STATUS_CHANGED")[-1].details["status"] == "stopped_by_policy"
    assert named(records, "fl_server")[0].fields["stopped_by_policy"] is True


async def test_one_failing_endpoint_is_an_endpoint_error_and_health_500_is_down(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 2)
        fl_server.failing_endpoints = {"/rounds"}  # the real server's 500 while its storage is not ready
        bad = await collect(monitor, records)
        fl_server.failing_endpoints = {"/health"}
        assert "/health: HTTP 500" in await collect_down(monitor)
        fl_server.failing_endpoints = set()
        await collect(monitor, records)
        await monitor.close()
    errors = of_type(bad, "ENDPOINT_ERROR")
    assert [e.details["endpoint"] for e in errors] == ["/rounds"] and "HTTP 500" in errors[0].details["error"]
    assert event_ids(bad) and not round_keys(bad)
    assert monitor.runtime.stats.counters["endpoint_errors"] == 1
    assert_exactly_once(records, fl_server)


async def test_a_bad_event_is_reported_and_the_good_ones_kept(fl_server: FlServerEmulator, fl_monitor: Build) -> None:
    await steps(fl_server, 1)
    fl_server.events.appendleft({"details": {"round": 1}})  # no event_id, no type
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records = await collect(monitor, [])
        await monitor.close()
    errors = of_type(records, "MALFORMED_RESPONSE")
    assert [e.details["endpoint"] for e in errors] == ["/events"] and "1 events" in errors[0].message
    assert set(event_ids(records)) == {e["event_id"] for e in fl_server.produced_events}


async def test_a_long_backlog_is_read_over_several_polls_within_the_page_budget(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    await steps(fl_server, 9)
    with trio.fail_after(10):
        monitor = fl_monitor(rounds_page_size=2, max_pages=2)
        await monitor.open()
        records: list[Record] = []
        first = await collect(monitor, records)
        while len(round_keys(records)) < 9:
            assert await collect(monitor, records), "each poll makes progress"
        await collect(monitor, records)
        await monitor.close()
    assert sorted(r for r, _ in round_keys(first)) == [1, 2, 3, 4]
    assert max(round_keys(records).values()) == 1 and set(round_keys(records)) == produced_round_keys(fl_server)


def test_options_reject_a_url_without_scheme(make_component: Callable[..., Any]) -> None:
    from flcollector.options import OptionError

    with pytest.raises(OptionError, match="http://"):
        make_component(FlMonitor, {"url": "fl-server:8081"})
    with pytest.raises(OptionError, match=r"rounds_page_size|must be > 0"):
        make_component(FlMonitor, {"rounds_page_size": 0})


async def test_a_rerun_waits_for_the_row_the_server_has_not_replaced_yet(
    make_component: Callable[..., Any], nursery: trio.Nursery
) -> None:
    server = FlServerEmulator(num_clients=3, max_rounds=5, seed=9)
    await nursery.start(server.serve)
    with trio.fail_after(10):
        monitor = make_component(FlMonitor, {"url": server.url})
        await monitor.open()
        records: list[Record] = []
        await steps(server, 3)
        server.stop_by_policy("quota")
        await collect(monitor, records)
        server.restart_training()  # the 2 remaining rounds, numbered 1 and 2, replace rows 1 and 2
        await steps(server, 1)
        await collect(monitor, records)
        server.metrics["current_round"] = 2  # aggregate_fit of round 2 ran; its row is written later
        await collect(monitor, records)
        assert monitor.ledger.rerun_next == 2  # row 2 is still the old run's: read it again next time
        await steps(server, 1)  # the loop ends; upstream then reports the last round (5) as the current one
        await collect(monitor, records)
        await collect(monitor, records)
        await monitor.close()
    assert_exactly_once(records, server)
    assert server.current_round == 5 and monitor.ledger.rerun_next is None  # the old row 3 stays: rerun over


async def test_a_round_finished_between_the_status_and_latest_answers_is_no_rerun(
    fl_server: FlServerEmulator, fl_monitor: Build
) -> None:
    """``/status`` and ``/rounds/latest`` are read at once: a round that finished between the two answers shows a
    latest round past the current one, as a new run does. It began a "rerun" that never ended (the old rows are
    never replaced), and every poll after it read every row from round 1 again (issue 13, item 7: found in the
    soak's agent by tracemalloc). The monitor reads ``/status`` again before it believes a rerun, and a rerun
    passes the old rows below the current round (the server writes a round's row before it moves on)."""
    with trio.fail_after(10):
        monitor = fl_monitor()
        await monitor.open()
        records: list[Record] = []
        await steps(fl_server, 4)
        await collect(monitor, records)
        await steps(fl_server, 1)  # round 5 finished after /status said 4, before /rounds/latest said 5
        batch, latest = await monitor._read_rounds({}, {"latest_round": 5}, 4, True)
        assert latest == 5 and batch.rerun_next is None and [row["round"] for row in batch.rows] == [5]
        # A rerun believed anyway (a /status answer far behind): it waits only at the current round, not at 1.
        believed = await monitor.ledger.fetch(monitor.client, latest_round=5, current_round=4)
        assert believed.rerun_next == 4
        await collect(monitor, records)
        assert monitor.ledger.rerun_next is None
        await monitor.close()
    assert_exactly_once(records, fl_server)
