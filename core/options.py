"""Strict validation of plugin options.

Every component declares its options as an attrs class (``Options``); this module turns a TOML table into an
instance, rejecting unknown keys and wrong types with an :class:`OptionError` that names the key, so the config
loader can report file, table path and key. Hand-written rather than cattrs because cattrs coerces silently
(``"5"`` becomes ``5``, ``5.7`` becomes ``5``), and a researcher's typo must not become a silent default.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union, get_args, get_origin

import attrs

from .durations import Duration


class OptionError(ValueError):
    """A bad option value; ``key`` is the dotted key inside the table, ``known`` lists the allowed keys."""

    def __init__(self, key: str, message: str, known: list[str] | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.message = message
        self.known = known or []


#: The metadata key of an option's documentation (see :func:`option_doc`).
DOC_KEY = "flcollector.doc"


@attrs.frozen
class OptionDoc:
    """How one option is documented: ``text`` is its meaning (Markdown); ``example`` a value the sample config shows
    instead of the default (needed when the default is None); ``default`` a phrase PLUGINS.md shows instead of the
    default's literal (``"the interval, at least 5 s"``); ``set_in_sample`` makes the sample set it (a value to
    change, such as a server's address) rather than show it commented out; ``writes`` says the option names a
    ``"file"`` or ``"directory"`` the agent writes (the container's entrypoint checks that it can, before it starts).
    """

    text: str
    example: Any = None
    default: str | None = None
    set_in_sample: bool = False
    writes: Literal["file", "directory"] | None = None


def option_doc(text: str, *, example: Any = None, default: str | None = None, set_in_sample: bool = False,
               writes: Literal["file", "directory"] | None = None) -> dict[str, OptionDoc]:
    """Field metadata that documents an option once: PLUGINS.md's option tables and the commented sample configs
    are generated from it (``python -m flcollector.docs``), e.g.
    ``url: str = attrs.field(default="http://x:80", metadata=option_doc("the server's base URL"))``."""
    return {DOC_KEY: OptionDoc(text, example, default, set_in_sample, writes)}


@attrs.define
class NoOptions:
    """Options class for components that take no options."""


def option_names(cls: type) -> list[str]:
    """Return the option keys an options class accepts."""
    return [f.name for f in attrs.fields(cls)]


def build_options(cls: type, table: Mapping[str, Any]) -> Any:
    """Validate ``table`` against the attrs class ``cls`` and return an instance of it."""
    known = option_names(cls)
    for key in table:
        if key not in known:
            raise OptionError(key, "unknown key", known)
    hints = typing.get_type_hints(cls)
    values = {}
    for field in attrs.fields(cls):
        if field.name in table:
            values[field.name] = convert(hints[field.name], table[field.name], field.name)
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:  # attrs validators on the options class
        raise OptionError(_blamed_key(str(exc), list(values)), str(exc), known) from None


def _blamed_key(message: str, given: list[str]) -> str:
    """The option a validator message is about: the one it names (``'count' must be...``, ``targets[1]: ...``)."""
    for key in sorted(given, key=len, reverse=True):
        if message.startswith((key, f"'{key}'", f"{key}[")) or f"'{key}'" in message:
            return key
    return given[0] if given else ""



def _type_name(tp: Any) -> str:
    if tp is Duration:
        return "duration"
    if get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    return getattr(tp, "__name__", str(tp)).replace("NoneType", "none")


def convert(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the annotation ``tp`` and convert it (durations, tuples); raise OptionError."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if tp is Duration:
        try:
            return Duration.parse(value)
        except ValueError as exc:
            raise OptionError(key, str(exc)) from None
    if origin in (Union, types.UnionType):
        choices = [arg for arg in get_args(tp) if arg is not type(None)]
        if len(choices) == 1:  # "X | None": TOML has no null, so the message of X is the useful one
            return convert(choices[0], value, key)
        for arg in choices:
            try:
                return convert(arg, value, key)
            except OptionError:
                continue
        raise OptionError(key, f"expected {' or '.join(_type_name(a) for a in get_args(tp))}, got {value!r}")
    if origin is Literal:
        if value in get_args(tp):
            return value
        raise OptionError(key, f"expected one of {', '.join(repr(a) for a in get_args(tp))}, got {value!r}")
    if origin in (list, tuple) or tp in (list, tuple):
        if not isinstance(value, list):
            raise OptionError(key, f"expected a list, got {value!r}")
        (item_tp, *_) = get_args(tp) or (Any,)
        items = [convert(item_tp, v, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if (origin or tp) is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise OptionError(key, f"expected a table, got {value!r}")
        _, val_tp = get_args(tp) or (str, Any)
        return {str(k): convert(val_tp, v, f"{key}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(tp, type) and isinstance(value, tp):
        return value
    raise OptionError(key, f"expected {_type_name(tp)}, got {value!r}")
