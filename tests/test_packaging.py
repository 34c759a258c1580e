"""The built wheel holds every module of core/ (as flcollector) and plugins/ (as flcollector.plugins)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _expected_modules() -> set[str]:
    expected = set()
    for folder, package in (("core", "flcollector"), ("plugins", "flcollector/plugins")):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT / folder)
            if "__pycache__" in relative.parts:
                continue
            expected.add(f"{package}/{relative.as_posix()}")
    return expected


@pytest.mark.slow
def test_wheel_contains_every_module_and_sample(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path),
         str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("flcollector-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _expected_modules() - names
    assert not missing, f"modules missing from the wheel: {sorted(missing)}"
    samples = {f"flcollector/plugins/{p.parent.name}/sample.toml" for p in (ROOT / "plugins").glob("*/sample.toml")}
    assert samples <= names, f"sample configs missing: {sorted(samples - names)}"
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[flcollector]" in text and "system = flcollector.plugins.system" in text
