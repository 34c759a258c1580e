"""The report opens in a real headless browser (Debian's chromium) and shows every figure, with no network.

Needs the ``chromium`` binary (`.ci/run` installs it and sets FLCOLLECTOR_REQUIRE_CHROMIUM=1, so there a missing
browser fails instead of skipping). The page marks on ``<body>`` how many images the browser decoded once loaded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trio
from experiment_records import EXPERIMENT, experiment
from flcollector.plugins.sqlite import SqliteStore

pytest.importorskip("matplotlib")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("FLCOLLECTOR_REQUIRE_CHROMIUM"),
    reason="no headless browser: the chromium binary is not installed (apt-get install chromium)",
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


async def browse(profile: Path, *args: str) -> bytes:
    """Run chromium headless with a fresh profile; return what it printed on stdout."""
    assert CHROMIUM is not None, "FLCOLLECTOR_REQUIRE_CHROMIUM is set but the chromium binary is missing"
    done = await trio.run_process([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                                  capture_stdout=True, stderr=subprocess.DEVNULL)
    return bytes(done.stdout)


async def test_the_report_renders_with_its_figures_in_chromium(
    make_component: Callable[..., Any], tmp_path: Path
) -> None:
    from flcollector.plugins.exporters.report_export import render

    store = make_component(SqliteStore, {"retention": "0s"})
    page = tmp_path / "report.html"
    with trio.fail_after(120):
        async with store:
            await store.write(experiment())
            page.write_text(await render(store, EXPERIMENT), encoding="utf-8")
        dom = (await browse(tmp_path / "profile-dom", "--dump-dom", page.as_uri())).decode()
        shot = tmp_path / "report.png"
        await browse(tmp_path / "profile-shot", "--window-size=1100,4000", f"--screenshot={shot}", page.as_uri())
    body = re.search(r"<body[^>]*>", dom)
    assert body is not None and 'data-figures-rendered="6"' in body.group(0), body
    assert dom.count('<img alt="') == 6 and "<h1>FL experiment report" in dom
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000  # figures, not a blank page
