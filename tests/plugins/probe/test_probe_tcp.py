"""Target parsing and the RTT / loss / jitter summary, on synthetic probe results."""

from __future__ import annotations

import pytest
from flcollector.plugins.probe.tcp import ProbeResult, parse_target, summarize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fl-server:8081", ("fl-server", 8081)),
        ("192.168.141.10:22", ("192.168.141.10", 22)),
        ("[::1]:443", ("::1", 443)),
        ("sdn.example.org:65535", ("sdn.example.org", 65535)),
    ],
)
def test_parse_valid_targets(text: str, expected: tuple[str, int]) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize(
    "text", ["fl-server", "fl-server:", ":8081", "host:0", "host:70000", "::1:443", "host :80", "http://host:80", 8081]
)
def test_parse_rejects_bad_targets_naming_them(text: object) -> None:
    with pytest.raises(ValueError, match=repr(text) if isinstance(text, str) else "host:port"):
        parse_target(text)


def test_summary_of_answered_probes() -> None:
    fields = summarize([ProbeResult(10.0), ProbeResult(14.0), ProbeResult(11.0), ProbeResult(11.0)])
    assert fields["sent"] == 4
    assert fields["received"] == 4
    assert fields["loss_percent"] == 0.0
    assert (fields["rtt_min_ms"], fields["rtt_avg_ms"], fields["rtt_max_ms"]) == (10.0, 11.5, 14.0)
    assert fields["jitter_ms"] == round((4 + 3 + 0) / 3, 3)  # mean |difference| of consecutive RTTs


def test_summary_with_losses_counts_reasons_and_skips_lost_probes_for_jitter() -> None:
    results = [ProbeResult(5.0), ProbeResult(None, "timeout"), ProbeResult(9.0), ProbeResult(None, "refused")]
    fields = summarize(results)
    assert fields["loss_percent"] == 50.0
    assert (fields["failed_timeout"], fields["failed_refused"], fields["failed_other"]) == (1, 1, 0)
    assert fields["jitter_ms"] == 4.0


def test_total_loss_has_counts_but_no_rtt_fields() -> None:
    fields = summarize([ProbeResult(None, "refused")] * 3)
    assert fields == {
        "sent": 3,
        "received": 0,
        "loss_percent": 100.0,
        "failed_refused": 3,
        "failed_timeout": 0,
        "failed_other": 0,
    }


def test_a_single_answer_has_rtts_but_no_jitter() -> None:
    fields = summarize([ProbeResult(None, "timeout"), ProbeResult(7.5)])
    assert fields["rtt_avg_ms"] == 7.5
    assert "jitter_ms" not in fields
