"""A big JSON body decoded a piece at a time gives what ``orjson.loads`` gives, and refuses what it refuses.

Generated JSON values (ingest documents and anything else), encoded with arbitrary whitespace, decode to the same
object both ways; invalid bodies (truncated, trailing data, ``NaN``, bad separators, non-string keys) raise
``JsonPiecesError`` exactly where orjson raises. The decoder runs on the event loop, so it must let other tasks in:
a test counts the checkpoints a long list takes.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
import trio
from flcollector.plugins.server.jsonpieces import JsonPiecesError, decode_in_pieces, needs_whole_decode
from hypothesis import given, settings
from hypothesis import strategies as st

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),  # orjson's integer range
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10).filter(lambda s: not any("\ud800" <= c <= "\udfff" for c in s)),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
documents = st.one_of(
    st.dictionaries(st.sampled_from(["metrics", "events", "other"]), st.lists(values, max_size=7) | values),
    values,
)


def encode(value: Any, indent: int | None, ensure_ascii: bool) -> str:
    """``value`` as JSON text, with or without whitespace and escapes."""
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, separators=None if indent else (",", ":"))


def decode(text: str, piece: int = 3) -> Any:
    """Run the decoder on a fresh event loop."""
    return trio.run(decode_in_pieces, text, piece)


@settings(max_examples=300, deadline=None)
@given(documents, st.sampled_from([None, 0, 2]), st.booleans())
def test_decodes_as_orjson_does(document: Any, indent: int | None, ensure_ascii: bool) -> None:
    text = encode(document, indent, ensure_ascii)
    assert decode(text) == orjson.loads(text.encode())


@pytest.mark.parametrize(
    "text",
    [
        '{"metrics": [1, 2',
        '{"metrics": [1, 2]',
        '{"metrics": [1 2]}',
        '{"metrics": [1,]}',
        '{"metrics": [NaN]}',
        '{"metrics": [{"v": Infinity}]}',
        '{"metrics": [1]} x',
        '{"metrics" [1]}',
        "{1: [1]}",
        '{"metrics": [1],}',
        "",
        "   ",
        "[1, 2",
        '{"events": [-Infinity]}',
    ],
)
def test_refuses_what_orjson_refuses(text: str) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text.encode())
    with pytest.raises(JsonPiecesError):
        decode(text)


def test_a_value_nested_too_deeply_is_refused_as_by_orjson() -> None:
    text = '{"metrics": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(text)
    with pytest.raises(JsonPiecesError, match="nested too deeply"):
        decode(text)


def test_a_later_duplicate_key_wins_as_in_orjson() -> None:
    text = '{"metrics": [1], "events": [], "metrics": [2, 3]}'
    assert decode(text) == orjson.loads(text) == {"metrics": [2, 3], "events": []}


def test_escaped_surrogates_are_left_to_orjson() -> None:
    # a lone surrogate is refused by orjson and accepted by json's scanner: such bodies take the whole-body path
    assert needs_whole_decode('{"metrics": [{"name": "\\ud800"}]}')
    assert needs_whole_decode('{"metrics": [{"name": "\\uD83D\\uDE00"}]}')
    assert not needs_whole_decode('{"metrics": [{"name": "\\u00e9 \U0001f600"}]}')


async def test_a_long_list_lets_other_tasks_run_between_pieces() -> None:
    text = orjson.dumps({"metrics": [{"name": "m", "fields": {"v": i}} for i in range(10_000)]}).decode()
    turns = 0
    done = trio.Event()

    async def other_task() -> None:
        nonlocal turns
        while not done.is_set():
            turns += 1
            await trio.lowlevel.checkpoint()

    with trio.fail_after(30):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(other_task)
            await trio.lowlevel.checkpoint()  # the other task is running before decoding starts
            started = turns
            document = await decode_in_pieces(text, 500)
            done.set()
    assert len(document["metrics"]) == 10_000
    assert turns - started >= 10_000 // 500 - 1  # the other task ran between (about) every two pieces


def test_consumers_take_a_lists_items_as_they_are_decoded() -> None:
    taken: list[tuple[int, object]] = []
    text = '{"events": [{"a": 1}], "metrics": [1, [2], {"b": 3}], "other": [4]}'
    document = trio.run(decode_in_pieces, text, 2, {"metrics": lambda i, item: taken.append((i, item))})
    assert document == {"events": [{"a": 1}], "metrics": [], "other": [4]}
    assert taken == [(0, 1), (1, [2]), (2, {"b": 3})]
    with pytest.raises(JsonPiecesError, match="duplicate key 'metrics'"):
        trio.run(decode_in_pieces, '{"metrics": [], "metrics": [1]}', 2, {"metrics": taken.append})
