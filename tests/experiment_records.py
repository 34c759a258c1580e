"""A small FL experiment as the monitors record it (shapes taken from a `flcollector demo` store), for the export,
report and bulk-read tests: 5 rounds, 4 clients (one straggler, one failure), 3 switch ports, latency, policy
decisions, an anomaly, and the policy engine unreachable for 6 s.
"""

from __future__ import annotations

import time

from flcollector import Event, Metric, Record

EXPERIMENT = "exp_report"
S = 1_000_000_000
# an hour ago, on a whole minute, plus nanoseconds a float would lose
T0 = (time.time_ns() // (60 * S) - 60) * 60 * S + 123_456_789
ROUND_S = 12  # each round lasts 12 s
ROUNDS = 5
PORTS = {"1": 8e6, "2": 2e6, "3": 0.5e6}  # rx bit/s of each port of switch 1: port 1 is the busiest
DENIED = {1: 1, 2: 1, 3: 1, 4: 3, 5: 1}  # policy denials per round (two decisions allowed in each round)


def round_start(round_: int) -> int:
    """When round ``round_`` (1-based) started."""
    return T0 + (round_ - 1) * ROUND_S * S


def fl_records() -> list[Record]:
    """ROUND_STARTED events, fl_round and fl_client metrics: client_4 straggles in round 2, one fails in round 3."""
    out: list[Record] = []
    for r in range(1, ROUNDS + 1):
        start = round_start(r)
        out.append(Event("ROUND_STARTED", f"round {r}", start, "fl_server", round=r, experiment=EXPERIMENT))
        failed = 1 if r == 3 else 0
        out.append(Metric("fl_round", {
            "accuracy": 0.5 + 0.1 * r, "loss": 1.0 / r, "total_duration_s": 11.0, "phase_config_s": 0.5,
            "phase_training_s": 8.0, "phase_aggregation_s": 1.5, "phase_evaluation_s": 1.0,
            "clients_selected": 4, "clients_succeeded": 4 - failed, "clients_failed": failed, "status": "complete",
        }, start + 11 * S, source="fl_server", experiment=EXPERIMENT, round=r))
        for c in range(1, 5):
            seconds = 30.0 if (r, c) == (2, 4) else 10.0 + c / 10
            out.append(Metric("fl_client", {"accuracy": 0.5, "loss": 0.9, "training_time_s": seconds},
                              start + 10 * S, {"client_id": f"client_{c}"}, "fl_server", EXPERIMENT, r))
    return out


def network_records() -> list[Record]:
    """sdn_port every 2 s on three ports (drops on port 2 in round 3; rx_bytes counts up), latency every 4 s."""
    out: list[Record] = []
    for step in range(ROUNDS * ROUND_S // 2):
        now = T0 + step * 2 * S
        round_ = 1 + step * 2 // ROUND_S
        for port, rate in PORTS.items():
            drops = 5.0 if port == "2" and round_ == 3 else 0.0
            out.append(Metric("sdn_port", {
                "rx_bps": rate, "tx_bps": rate / 2, "rx_drops_ps": drops, "tx_drops_ps": 0.0,
                "rx_bytes": int(step * rate / 4), "tx_bytes": int(step * rate / 8), "interval_s": 2.0,
            }, now, {"switch": "0000000000000001", "port": port}, "sdn_controller", EXPERIMENT, round_))
        if step % 2 == 0:
            out.append(Metric("network", {"latency_avg_ms": 2.0 + round_, "packet_loss_percent": 0.0,
                                          "sdn_status": "connected", "links_count": 4},
                              now, {}, "sdn_controller", EXPERIMENT, round_))
    return out


def policy_records() -> list[Record]:
    """Per round two decisions allowed (INFO) and DENIED[round] denied (WARNING); decision_count counters."""
    out: list[Record] = []
    allowed = denied = 0
    for r in range(1, ROUNDS + 1):
        start = round_start(r)
        verdicts = ["allow"] * 2 + ["deny"] * DENIED[r]
        for i, verdict in enumerate(verdicts):
            level = "INFO" if verdict == "allow" else "WARNING"
            out.append(Event("POLICY_DECISION", f"policy: {verdict}", start + (i + 1) * S, "policy_engine", level,
                             {"decision": verdict, "result": verdict == "allow"}, EXPERIMENT, r))
        allowed, denied = allowed + 2, denied + DENIED[r]
        out.append(Metric("decision_count", {"allowed": allowed, "denied": denied, "total": allowed + denied,
                                             "counted_by": "engine"}, start + 6 * S, {}, "policy_engine",
                          EXPERIMENT, r))
    return out


def alert_records() -> list[Record]:
    """An anomaly in round 3; the policy monitor's source unreachable in round 4, back 6 s later."""
    down = round_start(4) + 2 * S
    return [
        Event("ANOMALY_DETECTED", "sdn_port.rx_drops_ps = 5 (zscore rule)", round_start(3) + 4 * S,
              "sdn_controller", "WARNING", {"metric": "sdn_port", "field": "rx_drops_ps"}, EXPERIMENT, 3),
        Event("SOURCE_UNREACHABLE", "policy: connection refused", down, "policy", "ERROR",
              {"monitor": "policy", "plugin": "policy", "error": "connection refused"}, EXPERIMENT, 4),
        Event("SOURCE_RECOVERED", "policy recovered", down + 6 * S, "policy", "INFO",
              {"monitor": "policy", "plugin": "policy", "downtime_s": 6.0}, EXPERIMENT, 4),
    ]


def experiment() -> list[Record]:
    """The whole experiment, plus one record of another experiment (which no export of this one may hold)."""
    other: Record = Metric("system_cpu", {"usage_percent": 50.0}, T0 + 5 * S, {"host": "h"}, "host", "exp_other", 1)
    return [*fl_records(), *network_records(), *policy_records(), *alert_records(), other]
