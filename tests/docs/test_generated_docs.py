"""The generated docs are what the code says: PLUGINS.md's option tables, hook reference and contents, and the
plugins' sample configs come from the options' metadata and the hookspecs (``python -m flcollector.docs``)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import attrs
import pytest
from flcollector.docs import COMMAND, ROOT, generated, stale
from flcollector.docs.__main__ import main
from flcollector.docs.entries import UndocumentedOption, entries, toml_value
from flcollector.docs.targets import components
from flcollector.loader import load_registry
from flcollector.options import build_options
from flcollector.settings import COMMON_BY_KIND

REGISTRY = load_registry()
PLUGINS_MD = (ROOT / "PLUGINS.md").read_text(encoding="utf-8")


def test_the_generated_docs_are_up_to_date() -> None:
    old = [str(path.relative_to(ROOT)) for path in stale(registry=REGISTRY)]
    assert not old, f"out of date: {', '.join(old)}; run `{COMMAND}` and commit the result"


def test_every_component_has_its_generated_table_and_no_table_is_written_by_hand() -> None:
    for key in components(REGISTRY):
        assert f"<!-- options: {key} -->" in PLUGINS_MD, f"PLUGINS.md has no generated option table for [{key}]"
    outside = re.sub(r"<!-- options: ([\w.]+) -->.*?<!-- /options: \1 -->", "", PLUGINS_MD, flags=re.S)
    assert "| option | default | meaning |" not in outside, "an option table written by hand: use the markers"


def test_an_option_without_its_doc_is_refused() -> None:
    @attrs.define
    class Options:
        documented: int = attrs.field(default=1, metadata={})

    with pytest.raises(UndocumentedOption, match=r"Options\.documented has no option_doc"):
        entries(Options)


def test_the_check_names_a_stale_file_and_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The comparison sees an edit to a generated block, and ``--check`` of this checkout passes."""
    for path, text in generated(registry=REGISTRY).items():
        target = tmp_path / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("| `backfill` | `true` |", "| `backfill` | `false` |"))
    assert [p.relative_to(tmp_path) for p in stale(tmp_path, REGISTRY)] == [Path("PLUGINS.md")]
    assert main(["--check"]) == 0 and not capsys.readouterr().err


def test_the_contents_list_every_part() -> None:
    listed = re.search(r"<!-- contents -->(.*?)<!-- /contents -->", PLUGINS_MD, re.S)
    assert listed is not None
    for name in ("Writing a plugin", "Hooks", "Built-in plugins", "fl", "export", "Where each route lives"):
        assert f"[{name}](#" in listed.group(1), name


@pytest.mark.parametrize("key", sorted(components(REGISTRY)))
def test_every_value_a_sample_shows_is_valid_and_a_default_reads_back_as_itself(key: str) -> None:
    """Uncommented, a sample's line configures the option: the default exactly, or the example shown instead."""
    component = components(REGISTRY)[key]
    own = component.own() + component.remote()
    options = build_options(component.cls.Options, {e.key: _read_back(e.sample_value) for e in own})
    for entry in own:
        if entry.doc.example is None:
            assert getattr(options, entry.key) == entry.default, f"[{key}] {entry.key}"
    build_options(COMMON_BY_KIND[component.kind], {e.key: _read_back(e.sample_value) for e in component.common()})


def _read_back(value: object) -> object:
    return tomllib.loads(f"v = {toml_value(value)}")["v"]
