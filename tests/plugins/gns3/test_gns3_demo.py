"""``flcollector demo`` runs the GNS3 emulator, watches it with the gns3 monitor, and degrades a link mid-run."""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path

import trio
from flcollector import Metric
from flcollector.demo import Demo, run_demo
from flcollector.emulators.gns3 import DEGRADED, Gns3Emulator


async def test_demo_watches_gns3_and_degrades_then_restores_the_fl_uplink(tmp_path: Path) -> None:
    links: list[Metric] = []
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            demo: Demo = await nursery.start(
                functools.partial(run_demo, None, str(tmp_path / "demo"), 0, tick=0.05, handle_signals=False)
            )
            gns3 = demo.emulators["gns3"]
            assert isinstance(gns3, Gns3Emulator)
            config = tomllib.loads(demo.config_path.read_text())
            assert config["monitors"]["gns3"] == [{"url": gns3.url, "project_name": "basic_federated_learning"}]
            uplink = gns3.link_between("fl-server", "openvswitch").link_id
            async with demo.agent.observe() as batches:
                async for batch in batches:
                    links.extend(r for r in batch if isinstance(r, Metric) and r.name == "gns3_link")
                    if links and len(gns3.history) >= 2:
                        break
            demo.agent.stop()
    assert gns3.history[:2] == [(uplink, {"filters": DEGRADED}), (uplink, {"filters": {}})]  # through PUT, in order
    assert gns3.ticks >= 9 and {m.tags["project"] for m in links} == {"basic_federated_learning"}
