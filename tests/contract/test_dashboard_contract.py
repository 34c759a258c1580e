"""The FLOPY-NET dashboard's contract, route by route: every key its backend reads from our answer, with the
operation it applies (``dashboard_reads.CALLS``, each citing the dashboard function), holds before any data and after
a training run watched through the real monitors; and with data, nothing it reads is null or an empty array.

The answers are recorded once per session (``flopynet_run.record_answers``, its own ``trio.run``), so each route's
test only reads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
from dashboard_reads import CALLS, Call, violations
from flopynet_run import record_answers


@pytest.fixture(scope="session")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every dashboard call's answer before any data (``empty``) and after a training run (``data``)."""
    return trio.run(record_answers, Path(tmp_path_factory.mktemp("contract")))


@pytest.mark.parametrize("call", CALLS, ids=[call.name for call in CALLS])
@pytest.mark.parametrize("phase", ["empty", "data"])
def test_dashboard_reads_hold(answers: dict[str, Any], call: Call, phase: str) -> None:
    status, body = answers[phase][call.name]
    assert status == 200, (call.cite, body)
    problems = violations(call, body, with_data=phase == "data")
    assert not problems, f"{call.cite}\n" + "\n".join(problems)


def test_every_dashboard_route_the_collector_serves_has_a_contract() -> None:
    """The table covers each route of the ``dashboard`` plugin the dashboard calls, and cites where it is read."""
    from flcollector.plugins.dashboard import ROUTES

    served = {route.path for route in ROUTES}  # type: ignore[attr-defined]
    called = {call.path for call in CALLS}
    not_called = {"/status", "/api/", "/api/policy/decisions"}  # upstream's dashboard never calls these (§1.1)
    assert served - not_called <= called
    assert all(call.cite and (call.reads or call.method == "HEAD") for call in CALLS)
