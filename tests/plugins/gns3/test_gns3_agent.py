"""``GNS3_URL`` alone turns the gns3 monitor on; in a running agent an outage is one SOURCE_UNREACHABLE."""

from __future__ import annotations

from pathlib import Path

import trio
from flcollector import Event
from flcollector.agent import Agent, run_agent
from flcollector.config import load_config
from flcollector.emulators.gns3 import Gns3Emulator


def test_gns3_variables_enable_and_configure_the_monitor(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f'[agent]\ndata_dir = "{tmp_path}"\n')
    env = {"GNS3_URL": "http://192.168.141.128:80", "GNS3_PROJECT_NAME": "basic_federated_learning",
           "GNS3_USER": "admin", "GNS3_PASSWORD": "pw", "GNS3_TOKEN": "t", "GNS3_PROJECT_ID": "p"}
    [monitor] = load_config(path, env=env).of_kind("monitor")
    assert monitor.component == "gns3"
    options = monitor.options
    assert (options.url, options.project_name, options.project_id) == (
        "http://192.168.141.128:80", "basic_federated_learning", "p")
    assert (options.username, options.password, options.token) == ("admin", "pw", "t")
    assert load_config(path, env={}).of_kind("monitor") == []
    # a config that has the monitor keeps it, with the variables applied
    path.write_text(f'[agent]\ndata_dir = "{tmp_path}"\n[[monitors.gns3]]\nname = "lab"\ninterval = "2s"\n')
    [mine] = load_config(path, env={"GNS3_URL": "http://gns3:3080"}).of_kind("monitor")
    assert (mine.instance, mine.options.url) == ("lab", "http://gns3:3080")


async def test_in_an_agent_an_outage_is_reported_once_and_recovery_once(nursery: trio.Nursery, tmp_path: Path) -> None:
    emulator = Gns3Emulator()
    url = await nursery.start(emulator.serve)
    path = tmp_path / "c.toml"
    path.write_text(f'[agent]\ndata_dir = "{tmp_path}"\ninterval = "0.05s"\nmax_backoff = "0.2s"\n'
                    "self_metrics_interval = \"0s\"\n")
    config = load_config(path, env={"GNS3_URL": url})
    seen: list[str] = []
    with trio.fail_after(20):
        agent: Agent = await nursery.start(run_agent, config)
        async with agent.observe(1000) as batches:

            async def until(kind: str) -> None:
                async for batch in batches:
                    seen.extend(r.type if isinstance(r, Event) else r.name for r in batch)
                    if kind in seen:
                        return

            await until("gns3_link")
            emulator.set_fault("error")  # HTTP 500 on the project: the source is unavailable
            await until("SOURCE_UNREACHABLE")
            for _ in range(3):  # three more attempts, backing off, each refused
                await emulator.request_seen.wait()
            emulator.set_fault(None)
            await until("SOURCE_RECOVERED")
        agent.stop()
    assert seen.count("SOURCE_UNREACHABLE") == 1 and seen.count("SOURCE_RECOVERED") == 1
    assert seen.index("SOURCE_UNREACHABLE") < seen.index("SOURCE_RECOVERED")
    assert agent.stats.get("monitor", "gns3").counters["collections"] >= 5  # type: ignore[union-attr]
