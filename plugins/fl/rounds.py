"""Storing every completed round exactly once, backfilling what was missed, across outages and restarts.

A round is identified by ``(round number, server timestamp of its row)``: the FL server keeps its rows in SQLite
(``INSERT OR REPLACE`` by round number, kept across server restarts), so the same row is never stored twice, while
a *new* run that re-uses round numbers replaces rows with new timestamps, which are new rounds and are stored
(upstream ignored them, reference §5.2 #17). The ledger is seeded from the store at start-up, so a collector
restart re-stores nothing and backfills the rounds finished while it was away.

Scanning: ``/rounds?start_round=<scan_from>`` is asked only when ``latest_round`` passed ``scan_from``. A new run
leaves rows of the older, longer run beyond ``current_round``; while that is the case the rows up to
``current_round`` are re-read until each carries a timestamp from the new run (``rerun_next``).
"""

from __future__ import annotations

from typing import Any

import attrs

from .client import Answer, FlApi
from .convert import round_number, time_ns_of

RoundKey = tuple[int, int]  # (round number, row timestamp in ns)


@attrs.define
class RoundBatch:
    """Rows read in one collection (only the ones not emitted yet), committed after they were handed over."""

    ledger: RoundLedger
    answer: Answer | None = None  # the first failing /rounds answer, if any
    rows: list[dict[str, Any]] = attrs.field(factory=list)
    invalid: int = 0
    scan_from: int | None = None
    rerun_next: int | None = None

    def commit(self) -> None:
        """Remember the rows as emitted and move the scan pointers."""
        for row in self.rows:
            self.ledger.keys.add((row["round"], time_ns_of(row["timestamp"])))
        if self.scan_from is not None:
            self.ledger.scan_from = self.scan_from
        self.ledger.rerun_next = self.rerun_next


class RoundLedger:
    """The round keys already stored and where to scan next."""

    def __init__(self, page_size: int, max_pages: int, backfill: bool = True) -> None:
        self.page_size, self.max_pages, self.backfill = page_size, max_pages, backfill
        self.keys: set[RoundKey] = set()
        self.experiments: dict[RoundKey, str] = {}  # experiment of each stored key (to keep a derived name)
        self.scan_from: int | None = 1 if backfill else None  # None: set from the first answer (no backfill)
        self.rerun_next: int | None = None

    def known(self, row: dict[str, Any]) -> bool:
        """True when this exact row was stored already."""
        return (row["round"], time_ns_of(row["timestamp"])) in self.keys

    async def fetch(
        self, api: FlApi, latest_round: int, current_round: int | None, run_started_ns: int | None
    ) -> RoundBatch:
        """Read the rows that may be new, given the server's latest round and current round."""
        batch = RoundBatch(self, scan_from=self.scan_from, rerun_next=self.rerun_next)
        if batch.scan_from is None:  # backfill disabled: everything finished before we came is not ours to store
            batch.scan_from = latest_round + 1
        elif batch.scan_from > latest_round + 1:  # fewer rows than before: a fresh rounds database, read it all
            batch.scan_from = 1
        if batch.scan_from <= latest_round:
            last = await self._read(api, batch, batch.scan_from, latest_round)
            batch.scan_from = latest_round + 1 if last is None else last + 1
        rerunning = current_round is not None and run_started_ns is not None and latest_round > current_round
        if not rerunning:
            batch.rerun_next = None
            return batch
        assert current_round is not None and run_started_ns is not None
        start = batch.rerun_next or 1
        if start <= current_round and batch.answer is None:
            rows: list[dict[str, Any]] = []
            await self._read(api, batch, start, current_round, into=rows)
            for row in rows:  # advance over the rows the new run has already replaced
                if row["round"] != start or time_ns_of(row["timestamp"]) < run_started_ns:
                    break
                start += 1
        batch.rerun_next = start
        return batch

    async def _read(
        self, api: FlApi, batch: RoundBatch, first: int, last: int, into: list[dict[str, Any]] | None = None
    ) -> int | None:
        """Page through ``/rounds`` from ``first`` to ``last``; return the last round read if cut short, else None."""
        offset, last_read = 0, first - 1
        fresh = {(r["round"], r["timestamp"]) for r in batch.rows}
        for _ in range(self.max_pages):
            answer = await api.get(
                "/rounds", {"start_round": first, "end_round": last, "limit": self.page_size, "offset": offset}
            )
            rows = answer.data.get("rounds") if answer.ok and answer.data is not None else None
            if not isinstance(rows, list):
                batch.answer = (
                    answer
                    if not answer.ok
                    else Answer("/rounds", problem="malformed", reason="key 'rounds' missing or not a list")
                )
                return last_read
            for row in rows:
                try:
                    number = round_number(row)
                    time_ns_of(row.get("timestamp"))
                except ValueError:
                    batch.invalid += 1
                    continue
                last_read = max(last_read, number)
                if into is not None:
                    into.append(row)
                if not self.known(row) and (number, row["timestamp"]) not in fresh:
                    fresh.add((number, row["timestamp"]))
                    batch.rows.append(row)
            offset += len(rows)
            pagination = answer.data.get("pagination") if answer.data else None
            if not rows or not (isinstance(pagination, dict) and pagination.get("has_more")):
                return None
        return last_read  # page budget spent: continue after the rows read, next collection
