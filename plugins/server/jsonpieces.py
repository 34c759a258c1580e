"""Decode a big JSON ingest body a few hundred list items at a time, on the event loop, letting other tasks run.

orjson decodes a 10 MB body in 0.2-0.4 s without releasing the GIL, even in a worker thread, so ``/health`` and
every other client waited that long (issue 13, item 5). Here the body's top-level object is walked by hand and each
item of its lists is decoded by the standard library's C scanner (``json``'s ``scan_once``, about 1.5x orjson's time
per item), with a checkpoint every ``piece`` items: the body costs a little more CPU, and nothing waits for more than
a piece. The answer is the same as ``orjson.loads``: the same object (a later duplicate key wins), and the same
refusals, which orjson makes and ``json`` does not by default (``NaN``/``Infinity``, lone surrogates). A caller may
take a top-level list's items one at a time as they are decoded (``consumers``), so the decoded list is never held
whole: an ingest body's items become records at once (a decoded item costs about ten times its text).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from json.scanner import make_scanner
from typing import Any

import trio

# An escaped UTF-16 surrogate ("\ud83d"): valid in pairs, which orjson checks and json does not; a body holding one
# is decoded whole by orjson instead (rare: non-ASCII text is usually sent as UTF-8, not escaped).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class JsonPiecesError(ValueError):
    """The body is not valid JSON; the message says what and where (like ``orjson.JSONDecodeError``'s)."""


def _refuse_constant(name: str) -> Any:
    raise JsonPiecesError(f"{name} is not valid JSON")


# typeshed types make_scanner's argument as make_scanner itself; it takes the decoder whose settings it follows
_SCAN: Callable[[str, int], tuple[Any, int]] = make_scanner(
    json.JSONDecoder(parse_constant=_refuse_constant)  # type: ignore[arg-type]
)
_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as json.decoder skips it


def _skip(text: str, at: int) -> int:
    """The index of the first character at or after ``at`` that is not whitespace."""
    match = _WHITESPACE.match(text, at)
    return match.end() if match else at


def needs_whole_decode(text: str) -> bool:
    """True when ``text`` holds an escaped surrogate, which only a whole-body ``orjson`` decode checks exactly."""
    return _SURROGATE_ESCAPE.search(text) is not None


def _value(text: str, at: int) -> tuple[Any, int]:
    try:
        return _SCAN(text, at)
    except StopIteration:
        raise JsonPiecesError(f"expected a value at character {at}") from None
    except json.JSONDecodeError as exc:
        raise JsonPiecesError(f"{exc.msg} at character {exc.pos}") from None
    except RecursionError:  # orjson refuses past 1,024 levels; the scanner runs out of stack somewhat later
        raise JsonPiecesError(f"the value at character {at} is nested too deeply") from None


def _expect(text: str, at: int, char: str) -> int:
    at = _skip(text, at)
    if text[at : at + 1] != char:
        raise JsonPiecesError(f"expected {char!r} at character {at}")
    return at + 1


async def _list(text: str, at: int, piece: int, consume: ItemConsumer | None) -> tuple[list[Any], int]:
    """The list starting after its ``[`` at ``at``, decoded item by item; returns it (empty when ``consume`` took
    each item) and the index after ``]``."""
    items: list[Any] = []
    at = _skip(text, at)
    if text[at : at + 1] == "]":
        return items, at + 1
    count = 0
    while True:
        item, at = _value(text, _skip(text, at))
        if consume is None:
            items.append(item)
        else:
            consume(count, item)
        count += 1
        if count % piece == 0:
            await trio.lowlevel.checkpoint()  # a piece is a few ms: /health and the other clients go next
        at = _skip(text, at)
        char = text[at : at + 1]
        if char == "]":
            return items, at + 1
        if char != ",":
            raise JsonPiecesError(f"expected ',' or ']' at character {at}")
        at += 1


ItemConsumer = Callable[[int, Any], None]
"""Takes ``(index, item)`` of a top-level list as each item is decoded, so the decoded list is never held whole."""


async def decode_in_pieces(text: str, piece: int = 500, consumers: Mapping[str, ItemConsumer] | None = None) -> Any:
    """Decode ``text`` as ``orjson.loads`` would; a top-level object's list values are decoded ``piece`` items at a
    time with a checkpoint in between. The items of a list under a key of ``consumers`` go to that consumer as they
    are decoded and the document holds an empty list there; such a key may appear once (with a consumer, "the later
    duplicate wins" cannot be kept). Raises JsonPiecesError for invalid JSON, and what a consumer raises."""
    at = _skip(text, 0)
    if text[at : at + 1] != "{":  # not an ingest document: decoded whole, refused by the caller
        document, at = _value(text, at)
    else:
        document = {}
        at = _skip(text, at + 1)
        if text[at : at + 1] == "}":
            at += 1
        else:
            while True:
                key, at = _value(text, _skip(text, at))
                if not isinstance(key, str):
                    raise JsonPiecesError(f"expected a string key before character {at}")
                at = _skip(text, _expect(text, at, ":"))
                consume = consumers.get(key) if consumers else None
                if consume is not None and key in document:
                    raise JsonPiecesError(f"duplicate key {key!r} before character {at}")
                if text[at : at + 1] == "[":
                    document[key], at = await _list(text, at + 1, piece, consume)
                else:
                    document[key], at = _value(text, at)
                at = _skip(text, at)
                char = text[at : at + 1]
                if char == "}":
                    at += 1
                    break
                if char != ",":
                    raise JsonPiecesError(f"expected ',' or '}}' at character {at}")
                at += 1
    at = _skip(text, at)
    if at != len(text):
        raise JsonPiecesError(f"unexpected data after the document at character {at}")
    return document
