"""PLUGINS.md's generated parts, each between markers it keeps: ``<!-- options: KEY -->`` option tables,
``<!-- hooks -->`` the hook reference (from the hookspecs), ``<!-- contents -->`` the contents list."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from .. import hookspecs
from ..loader import Registry
from .entries import Entry, toml_value
from .targets import table_entries

_BLOCK = re.compile(r"(<!-- (options: [\w.]+|hooks|contents) -->\n)(.*?)(<!-- /\2 -->)", re.S)
_VARIABLE = re.compile(r"[A-Z][A-Z0-9_]*[A-Z0-9>](?:<NAME>)?|[A-Z_]+<NAME>")
_HEADING = re.compile(r"^(#{1,6}) (.+)$")


def option_table(found: list[Entry]) -> str:
    """A Markdown table: option, default, meaning (with the variables that set it)."""
    rows = ["| option | default | meaning |", "|---|---|---|"]
    for entry in found:
        default = entry.doc.default or ("none" if entry.default is None else f"`{toml_value(entry.default)}`")
        variables = _VARIABLE.sub(r"`\g<0>`", ", ".join(entry.variables))
        meaning = entry.doc.text + (f" (env {variables})" if variables else "")
        rows.append(f"| `{entry.key}` | {_cell(default)} | {_cell(meaning)} |")
    return "\n".join(rows) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def hook_reference() -> str:
    """Every hookspec, in the order ``core/hookspecs.py`` defines them: its signature and its docstring."""
    parts = []
    for name in hookspecs.HOOKS:
        spec: Callable[..., Any] = getattr(hookspecs, name)
        arguments = ", ".join(inspect.signature(spec).parameters)
        text = re.sub(r"``([^`]+)``", r"`\1`", inspect.getdoc(spec) or "")
        parts.append(f"### `{name}({arguments})`\n\n{text}\n")
    return "\n".join(parts)


def anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def contents(text: str) -> str:
    """The list of the document's parts (its level-1 and level-2 headings after the title, code blocks skipped)."""
    lines: list[str] = []
    seen: dict[str, int] = {}
    fenced = nested = False
    for line in text.splitlines()[1:]:
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if match is None:
            continue
        level, title = len(match.group(1)), match.group(2)
        slug = anchor(title)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if level <= 2:
            link = f"[{title.replace('`', '')}](#{slug}{f'-{count}' if count else ''})"
            nested = nested or level == 1
            lines.append(f"{'  ' if nested and level == 2 else ''}- {link}")
    return "\n".join(lines) + "\n"


def render(text: str, registry: Registry) -> str:
    """PLUGINS.md with every generated block rewritten (the text around them is kept as written)."""
    def block(match: re.Match[str]) -> str:
        opening, what = match.group(1), match.group(2)
        if what == "hooks":
            body = hook_reference()
        elif what == "contents":
            body = "{contents}"
        else:
            body = option_table(table_entries(what.removeprefix("options: "), registry))
        return f"{opening}\n{body}\n{match.group(4)}"

    rendered = _BLOCK.sub(block, text)
    return rendered.replace("{contents}", contents(rendered), 1)
