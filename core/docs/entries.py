"""What the docs say of each option: read from the ``option_doc`` metadata of an options class, with the default
written as TOML and the environment variables that set it (from the config's table)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import attrs

from ..config import variables_of
from ..durations import Duration
from ..options import DOC_KEY, OptionDoc

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_UNITS = (("d", 86_400.0), ("h", 3_600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3))


@attrs.frozen
class Entry:
    """One option as the docs show it."""

    key: str
    default: Any  # the value, None when there is none
    doc: OptionDoc
    variables: tuple[str, ...] = ()

    @property
    def sample_value(self) -> Any:
        """What the sample config writes: the example, else the default."""
        return self.doc.example if self.doc.example is not None else self.default


class UndocumentedOption(ValueError):
    """An option without ``option_doc`` metadata, or whose sample value cannot be written."""


def entries(cls: type, path: str | None = None, *, own_only: bool = False,
            defaults: Mapping[str, Any] | None = None) -> list[Entry]:
    """The documented options of ``cls`` (an attrs class). ``path`` is the config's dotted prefix (``monitors.fl``)
    that names the variables; ``own_only`` leaves out the fields of attrs base classes; ``defaults`` go over the
    class's (a component's ``common_defaults``)."""
    inherited = {f.name for base in cls.__mro__[1:] if attrs.has(base) for f in attrs.fields(base)}
    out = []
    for field in attrs.fields(cls):
        if own_only and field.name in inherited:
            continue
        doc = field.metadata.get(DOC_KEY)
        if not isinstance(doc, OptionDoc):
            raise UndocumentedOption(f"{cls.__module__}.{cls.__qualname__}.{field.name} has no option_doc metadata")
        default = _default(field)
        if defaults and field.name in defaults:
            default = defaults[field.name]
        if default is None and doc.example is None and doc.default is None:
            raise UndocumentedOption(f"{cls.__qualname__}.{field.name}: a default of None needs an example or a "
                                     "default text")
        variables = tuple(variables_of(f"{path}.{field.name}")) if path else ()
        out.append(Entry(field.name, default, doc, variables))
    return out


def _default(field: attrs.Attribute[Any]) -> Any:
    default: Any = field.default
    if hasattr(default, "factory") and hasattr(default, "takes_self"):  # an attrs.Factory
        return default.factory()
    return None if default is attrs.NOTHING else default


def duration_text(seconds: float) -> str:
    """``"5s"``, ``"500ms"``, ``"10m"``, ``"14d"``: the largest unit that writes ``seconds`` whole."""
    if seconds == 0:
        return "0s"
    for unit, size in _UNITS:
        count = seconds / size
        if abs(count - round(count)) < 1e-9 and round(count) > 0:
            return f"{round(count)}{unit}"
    return f"{seconds}s"


def toml_value(value: Any) -> str:
    """``value`` as a TOML literal (durations as their text, tables inline)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Duration):
        return json.dumps(duration_text(float(value)))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        pairs = (f"{k if _BARE_KEY.match(str(k)) else json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + ", ".join(pairs) + " }"
    raise UndocumentedOption(f"cannot write {value!r} in TOML")
