"""What one policy check leaves behind in the emulated engine, as ``src/policy_engine/evaluation`` writes it.

``PolicyChecker.check_policy`` evaluates every enabled policy of the checked type (their rules in order), then
``ApplicationTracker.record_policy_application`` keeps one record and the running statistics per check,
``PolicyEngine.log_decision`` one decision per policy evaluated (its component read from the context's keys, its id
``decision_<ms>_<1000-9999>``, which can repeat within a millisecond), and one ``POLICY_EVAL_RESULT`` event carries
the whole result (a ``summary`` once it is 1000 characters or more, which it is as soon as a policy was evaluated).
"""

from __future__ import annotations

import random
import time
from typing import Any

MAX_DECISIONS = 1000  # log_decision keeps the last 1000 decisions
MAX_APPLICATIONS = 1000  # the ApplicationTracker keeps the last 1000 applications

#: The rules every scripted policy has (a deny on the checked condition, then the allow and log fall-backs).
RULES: tuple[dict[str, Any], ...] = (
    {"action": "deny", "match": {"current_hour": ">=22", "available_clients": "<2"}, "description": "quiet hours"},
    {"action": "allow", "match": {"operation": "model_training"}, "description": "training is allowed"},
    {"action": "log", "match": {}, "description": "log every check"},
)


def component_of(context: dict[str, Any]) -> str:
    """``log_decision``'s rule: ``server_id`` -> fl-server, ``client_id`` -> fl-client, else by the operation."""
    if "server_id" in context:
        return "fl-server"
    if "client_id" in context:
        return "fl-client"
    operation = str(context.get("operation", "")).lower()
    for word, component in (("server", "fl-server"), ("client", "fl-client"), ("network", "network")):
        if word in operation:
            return component
    return "policy-engine" if "policy" in operation else "unknown"


class Checks:
    """The applications, statistics and decisions of the engine's checks."""

    def __init__(self, rng: random.Random) -> None:
        self.random = rng
        self.applications: list[dict[str, Any]] = []
        self.decisions: list[dict[str, Any]] = []  # decisions_history, oldest first
        self.stats: dict[str, Any] = {
            "total_checks": 0,
            "allowed_checks": 0,
            "denied_checks": 0,
            "by_component": {},
            "by_policy_type": {},
            "by_requester": {},
        }

    def evaluate(self, policies: list[dict[str, Any]], policy_type: str, deny: bool) -> dict[str, Any]:
        """The checker's result: ``deny`` makes the first policy's deny rule match."""
        began = time.time()
        allowed = not (deny and policies)
        evaluations = []
        for position, policy in enumerate(policies):
            matched = not allowed and position == 0
            rules = [
                {
                    "rule_index": index,
                    "rule_type": "condition",
                    "action": rule["action"],
                    "conditions": rule["match"],
                    "matched": matched if index == 0 else index > 0,
                    "reason": rule["description"],
                    "evaluation_time_ms": self.random.uniform(0.01, 0.1),
                }
                for index, rule in enumerate(RULES)
            ]
            evaluations.append(
                {
                    "policy_id": policy["id"],
                    "policy_name": policy.get("name", policy["id"]),
                    "policy_type": policy_type,
                    "priority": policy.get("priority", 0),
                    "rules_evaluated": rules,
                    "matched_rules": [rule for rule in rules if rule["matched"]],
                    "actions_applied": [],
                    "evaluation_time_ms": sum(rule["evaluation_time_ms"] for rule in rules),
                    "result": "deny" if matched else "allow",
                }
            )
        if not allowed:
            reason = f"Policy '{evaluations[0]['policy_name']}' rule 0: {RULES[0]['description']}"
        else:
            reason = "Allowed by 1 rule(s)" if policies else f"No policies of type {policy_type} found"
        result: dict[str, Any] = {
            "allowed": allowed,
            "reason": reason,
            "policies_checked": len(policies),
            "evaluation_time": time.time() - began,
            "rule_evaluations": evaluations,
            "applied_actions": [],
            "decision_path": [f"policy:{e['policy_id']}:rule:0:{e['result']}" for e in evaluations],
            "evaluation_details": {"total_policies": len(policies), "evaluated_rules": len(RULES) * len(policies)},
        }
        if not allowed:
            result["violations"] = [{"policy_id": policies[0]["id"], "rule_index": 0, "reason": reason}]
        return result

    def record(self, policy_type: str, context: dict[str, Any], result: dict[str, Any], elapsed_ms: float) -> None:
        """``record_policy_application`` and one ``log_decision`` per evaluated policy."""
        allowed, requester = bool(result["allowed"]), context.get("requester_id", "unknown")
        component = context.get("component", "unknown")
        record = {
            "timestamp": time.time(),
            "policy_type": policy_type,
            "requester_id": requester,
            "component": component,
            "action": context.get("action", "unknown"),
            "context": context,
            "result": allowed,
            "reason": result["reason"],
            "evaluation_time_ms": elapsed_ms,
        }
        self.applications = [*self.applications, record][-MAX_APPLICATIONS:]
        word = "allowed" if allowed else "denied"
        self.stats["total_checks"] += 1
        self.stats[f"{word}_checks"] += 1
        for table, key in (("by_component", component), ("by_policy_type", policy_type), ("by_requester", requester)):
            counts = self.stats[table].setdefault(key, {"total": 0, "allowed": 0, "denied": 0})
            counts["total"] += 1
            counts[word] += 1
        for evaluation in result["rule_evaluations"]:
            now = time.time()
            decision = {
                "id": f"decision_{int(now * 1000)}_{self.random.randint(1000, 9999)}",
                "policy_id": evaluation["policy_id"],
                "policy_name": evaluation["policy_name"],
                "component": component_of(context),
                "timestamp": now,
                "context": context,
                "decision": "allow" if allowed else "deny",
                "result": allowed,
                "reason": result["reason"],
                "action_taken": result["reason"],
                "execution_time": evaluation["evaluation_time_ms"],
                "request_id": context.get("request_id", f"req_{int(now)}"),
            }
            self.decisions = [*self.decisions, decision][-MAX_DECISIONS:]
