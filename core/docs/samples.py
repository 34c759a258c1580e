"""The commented sample configs (``plugins/<plugin>/sample.toml``): each component's table with every option at its
default and its meaning, then the core's keys of its kind.

The generator owns each table block: from its header (``[[monitors.fl]]``, ``[server]``, or ``# [[...]]`` for a
table shown commented out) to the next blank line. The prose around the blocks is written by hand and kept.
"""

from __future__ import annotations

import re
import textwrap

from .entries import Entry, toml_value
from .targets import Component

WIDTH = 120
_HEADER = re.compile(r"^(# )?(\[\[(?:monitors|processors|sinks|listeners)\.(\w+)\]\]|\[server\])\s*$")


def _comment(entry: Entry) -> str:
    text = entry.doc.text.replace("`", "")
    return text + (f" (env {', '.join(entry.variables)})" if entry.variables else "")


def _lines(found: list[Entry], commented: bool, column: int) -> list[str]:
    lines = []
    for entry in found:
        prefix = "" if entry.doc.set_in_sample and not commented else "# "
        value = toml_value(entry.sample_value)
        kv, comment = f"{prefix}{entry.key} = {value}", _comment(entry)
        line = f"{kv.ljust(column) if len(kv) + 2 <= column else kv + '  '}# {comment}"
        if len(line) <= WIDTH:
            lines.append(line)
            continue
        lines += [f"# {part}" for part in textwrap.wrap(comment, WIDTH - 2)]  # the meaning above the key
        if len(kv) <= WIDTH or not isinstance(entry.sample_value, list):
            lines.append(kv)
        else:  # a long list, one line of items after another
            items = textwrap.wrap(", ".join(toml_value(v) for v in entry.sample_value), WIDTH - len(prefix) - 2)
            lines += [f"{prefix}{entry.key} = [", *(f"{prefix}  {item}" for item in items), f"{prefix}]"]
    return lines


def _column(groups: list[list[Entry]]) -> int:
    """Where the comments start: after the longest ``key = value`` that is short enough to share a line."""
    widths = [len(f"# {e.key} = {toml_value(e.sample_value)}") for group in groups for e in group]
    return max((w for w in widths if w <= 36), default=0) + 2


def block(component: Component, commented: bool = False) -> list[str]:
    """The sample's block of ``component``; ``commented`` shows the whole table commented out."""
    own, remote, common = component.own(), component.remote(), component.common()
    column = _column([own, remote, common])
    lines = [component.header, *_lines(own, commented, column)]
    if remote:
        lines += ["# Keys of every remote sink:", *_lines(remote, commented, column)]
    lines += [f"# Keys every {component.kind} accepts (owned by the core):", *_lines(common, commented, column)]
    if commented:
        lines = [line if line.startswith("#") else f"# {line}" for line in lines]
    return lines


def render(text: str, found: dict[str, Component]) -> str:
    """The sample ``text`` with every table block generated anew."""
    out: list[str] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = _HEADER.match(lines[index])
        if match is None:
            out.append(lines[index])
            index += 1
            continue
        key = "server" if match.group(2) == "[server]" else match.group(2).strip("[]")
        out += block(found[key], commented=bool(match.group(1)))
        while index < len(lines) and lines[index].strip():
            index += 1
    return "\n".join(out) + "\n"
