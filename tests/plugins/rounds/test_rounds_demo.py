"""``flcollector demo`` with the round table: the FL server's uplink degraded mid-run shows in the configured and
observed columns, per-client bytes add up to the port counters, FL shares to the flow totals, and a round that
spanned a policy engine outage has a coverage below 1."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import trio
from flcollector import Metric
from flcollector.demo import Demo, run_demo
from flcollector.emulators.gns3 import Gns3Emulator

TICK = 0.5  # s: a round per tick; GNS3 degrades the uplink on tick 5 and restores it on tick 9


async def run(tmp_path: Path) -> tuple[dict[int, Metric], dict[tuple[int, str], Metric]]:
    """Run the demo until a round after the restore is final; the policy engine is down from tick 3 to 7."""
    rows: dict[int, Metric] = {}
    clients: dict[tuple[int, str], Metric] = {}
    async with trio.open_nursery() as nursery:
        demo: Demo = await nursery.start(functools.partial(run_demo, None, str(tmp_path / "demo"), 0, tick=TICK,
                                                           summary_every=1000, handle_signals=False))
        gns3, policy = demo.emulators["gns3"], demo.emulators["policy"]
        assert isinstance(gns3, Gns3Emulator)
        outage = "to come"
        async with demo.agent.observe(10_000) as batches:
            async for batch in batches:  # about one a second: the monitors poll together
                if gns3.ticks >= 3 and outage == "to come":
                    policy.set_fault("down")
                    outage = "on"
                elif gns3.ticks >= 7 and outage == "on":
                    policy.set_fault(None)
                    outage = "over"
                for record in batch:
                    if isinstance(record, Metric) and record.name == "fl_round_network" and record.round:
                        rows[record.round] = record
                    elif isinstance(record, Metric) and record.name == "fl_round_client" and record.round:
                        clients[(record.round, record.tags["client"])] = record
                restored = [r for r in rows.values() if r.fields["complete"] and gns3.ticks > 10
                            and r.fields.get("configured_rtt_added_ms") == 0 and r.round > 10]
                if restored:
                    break
        demo.agent.stop()
    return rows, clients


async def test_the_demo_round_table_shows_the_degradation_the_traffic_and_the_outage(tmp_path: Path) -> None:
    with trio.fail_after(60):
        rows, clients = await run(tmp_path)
    final = {n: r.fields for n, r in rows.items() if r.fields["complete"]}
    degraded = {n: f for n, f in final.items() if f.get("configured_rtt_added_ms") == 160}
    clean = {n: f for n, f in final.items() if f.get("configured_rtt_added_ms") == 0}
    assert degraded and clean and min(clean) < min(degraded) < max(clean)  # before, during, after
    for fields in degraded.values():
        assert fields["configured_loss_roundtrip_pct"] == pytest.approx(3.96)
        assert fields["links_configured"] == 1
    # the emulated switch drops what the degraded link loses: observed on the FL server's port, both ways
    # (the configured columns follow the GNS3 polls, a second apart: rounds next to a change can disagree)
    inside = [f["fl_server_port_loss_pct"] for f in degraded.values() if "fl_server_port_loss_pct" in f]
    well_before = [f.get("fl_server_port_loss_pct", 0) for n, f in clean.items() if n < min(degraded) - 2 / TICK]
    assert inside and max(inside) > 2.0 and well_before and max(well_before) < 2.0
    # loopback adds no delay: a degraded round with a probe is flagged, with what differs
    flagged = [f for f in degraded.values() if f.get("mismatch_latency")]
    assert flagged and all("latency: configured +160.0 ms" in f["mismatch_detail"] for f in flagged)
    # per-client bytes add up to the clients' switch port counters; FL shares to the flow totals
    sums: dict[str, list[float]] = {}
    for (n, client), record in clients.items():
        if n in final and "port_rx_bytes" in record.fields:
            total = sums.setdefault(client, [0.0, 0.0])
            total[0] += record.fields.get("bytes_to_server", 0.0)
            total[1] += record.fields["port_rx_bytes"]
    # (a client that joined in the last rounds has sent too little for the edges of its first interval to vanish)
    settled = {client: total for client, total in sums.items() if total[1] > 500_000}
    assert len(settled) >= 3 and all(sent == pytest.approx(got, rel=0.02) for sent, got in settled.values())
    with_traffic = [f for f in final.values() if f.get("total_bytes")]
    assert with_traffic
    for f in with_traffic:
        assert f["fl_bytes"] + f["control_bytes"] + f["background_bytes"] == pytest.approx(f["total_bytes"])
        assert f["fl_pct"] + f["control_pct"] + f["background_pct"] == pytest.approx(100)
        assert f["attributed_pct"] == pytest.approx(100, abs=1)
    # the policy engine was down for a while: the rounds that spanned it say so, the others are whole
    assert min(f["coverage_policy"] for f in final.values()) < 1 and max(f["coverage_fl"] for f in final.values()) == 1
    assert all(f["coverage_min"] == min(v for k, v in f.items() if k.startswith("coverage_") and k != "coverage_min")
               for f in final.values())


def test_demo_config_enables_the_round_table_and_a_probe_of_the_fl_server() -> None:
    text = (Path(__file__).resolve().parents[3] / "core" / "demo.toml").read_text()
    assert "[[processors.rounds]]" in text and '"fl-server:8081"' in text
    assert text.index("[[processors.anomaly]]") < text.index("[[processors.rounds]]")


