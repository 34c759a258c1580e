"""Mapping policy-engine answers to records: levels, counts and the optional compliance and trust figures."""

from __future__ import annotations

import pytest
from flcollector.plugins.policy import convert


@pytest.mark.parametrize(
    ("event", "level"),
    [
        ({"type": "POLICY_EVAL_RESULT", "details": {"allowed": False}}, "WARNING"),
        ({"type": "POLICY_EVAL_RESULT", "details": {"allowed": True}}, "INFO"),
        # the engine's own shape: the check's result nested, or only a summary when it was long
        ({"type": "POLICY_EVAL_RESULT", "details": {"policy_type": "t", "result": {"allowed": False}}}, "WARNING"),
        ({"type": "POLICY_EVAL_RESULT", "details": {"policy_type": "t", "result": {"allowed": True}}}, "INFO"),
        ({"type": "POLICY_EVAL_RESULT", "details": {"summary": "{'request_id': 'req_1', ..."}}, "INFO"),
        ({"type": "ACCESS_DENIED", "details": {}}, "WARNING"),
        ({"type": "POLICY_LOAD_FAILED", "details": {}}, "ERROR"),
        ({"type": "POLICY_CREATED"}, "INFO"),
    ],
)
def test_engine_event_levels(event: dict[str, object], level: str) -> None:
    assert convert.engine_event_level(event) == level


def test_engine_event_keeps_the_id_component_and_source_time() -> None:
    raw = {"id": "e1", "type": "POLICY_CREATED", "timestamp": 1700000000.5, "source": "POLICY_ENGINE", "details": {}}
    event = convert.engine_event(raw)
    assert (event.origin_id, event.source, event.details) == ("e1", "policy_engine", {})
    assert event.time_ns == 1_700_000_000_500_000_000
    other = convert.engine_event({**raw, "source": "FL_SERVER", "details": "text"})
    assert (other.source, other.details) == ("fl_server", {"value": "text"})  # the engine logs for others too


def test_decisions_sharing_an_id_are_told_apart_by_their_time() -> None:
    first = {"id": "decision_1700000000000_4242", "timestamp": 1700000000.0001, "policy_id": "p1"}
    second = {**first, "timestamp": 1700000000.0009}  # the same millisecond and the same random suffix
    assert convert.decision_id(first) != convert.decision_id(second)
    assert convert.decision_id(first) == convert.decision_id(dict(first))  # served again: the same key
    assert convert.decision_event(second).origin_id == "decision_1700000000000_4242"


def test_decision_without_result_uses_the_word() -> None:
    event = convert.decision_event({"id": "d", "decision": "deny", "timestamp": 1.0, "component": "fl-client"})
    assert event.level == "WARNING" and "denied fl-client" in event.message


def test_counts_fall_back_to_the_monitors_own_when_the_engine_has_none() -> None:
    own = {"allowed": 7, "denied": 3, "new_allowed": 2, "new_denied": 1}
    fields = convert.decision_count_fields({}, own)
    assert (fields["allowed"], fields["denied"], fields["total"], fields["counted_by"]) == (7, 3, 10, "collector")
    assert fields["denial_rate"] == pytest.approx(0.3) and fields["new_total"] == 3


def test_policy_count_by_type_and_compliance_and_trust() -> None:
    metrics = {
        "policy_count": 4,
        "enabled_policy_count": 3,
        "policies_by_type": {"security": 3, "qos": 1},
        "compliance_score": 0.9,
        "trust_scores": {"client_1": 0.8, "client_2": "n/a"},
    }
    fields = convert.policy_count_fields(metrics, {"version": 5})
    assert fields == {"total": 4, "enabled": 3, "active": 3, "policy_version": 5, "type_security": 3, "type_qos": 1}
    records = convert.compliance_metrics(metrics, {"allowed": 9, "denied": 1, "total": 10}, 1)
    compliance, trust = records
    assert compliance.fields == {"compliance_ratio": 0.9, "violations": 1, "compliance_score": 0.9}
    assert (trust.name, trust.tags, trust.fields) == ("policy_trust", {"client": "client_1"}, {"score": 0.8})
