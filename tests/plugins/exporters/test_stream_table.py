"""Streaming a table to a file: complete files only, and a failure raised as itself with nothing left behind."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import trio
from flcollector import ExportTable
from flcollector.plugins.exporters.csv_export import CsvRows
from flcollector.plugins.exporters.tables import stream_table


def table(chunks: list[list[tuple[Any, ...]]], fail_after: int | None = None) -> ExportTable:
    async def rows() -> AsyncIterator[list[tuple[Any, ...]]]:
        for index, chunk in enumerate(chunks):
            if index == fail_after:
                raise ValueError("the store went away")
            yield chunk

    return ExportTable("metrics", ("a", "b"), ("int", "str"), None, rows)


async def test_every_chunk_is_written_in_order(tmp_path: Path) -> None:
    chunks = [[(i, f"r{i}") for i in range(start, start + 3)] for start in range(0, 30, 3)]
    target = tmp_path / "out.csv"
    with trio.fail_after(10):
        await stream_table(table(chunks), target, partial(CsvRows, header=("a", "b"), delimiter=","))
    lines = target.read_text().splitlines()
    assert lines[0] == "a,b" and lines[1:] == [f"{i},r{i}" for i in range(30)]


async def test_a_failure_is_raised_as_itself_and_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with trio.fail_after(10), pytest.raises(ValueError, match="the store went away"):
        await stream_table(table([[(1, "x")]] * 5, fail_after=2), target,
                           partial(CsvRows, header=("a", "b"), delimiter=","))
    assert os.listdir(tmp_path) == []  # neither the file nor its temporary
