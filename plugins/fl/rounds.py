"""Storing every completed round exactly once, backfilling what was missed, across outages and restarts.

A round is identified by ``(round number, server timestamp of its row)``: the FL server keeps its rows in SQLite
(``INSERT OR REPLACE`` by round number, kept across server restarts), so the same row is never stored twice, while
a *new* run that re-uses round numbers replaces rows with new timestamps, which are new rounds and are stored
(upstream ignored them, reference §5.2 #17). The ledger is seeded from the store at start-up, so a collector
restart re-stores nothing and backfills the rounds finished while it was away.

Scanning: ``/rounds?start_round=<scan_from>`` is asked only when ``latest_round`` passed ``scan_from``. A new run
(a process restart, or a training a policy let restart: Flower numbers each training loop from 1) replaces rows
from round 1 on while rows of the older run remain beyond ``current_round``. While that is the case, the rows from
``rerun_next`` up to ``current_round`` are re-read, and ``rerun_next`` only passes a row written after the newest
row known when the rerun began (``rerun_after_ns``): the server moves ``current_round`` before it writes that
round's row, so a row at ``current_round`` may still be the old one.
"""

from __future__ import annotations

from typing import Any

import attrs
import httpx
from flcollector import EndpointError

from .convert import round_number, time_ns_of
from .listing import get_page

RoundKey = tuple[int, int]  # (round number, row timestamp in ns)


@attrs.define
class RoundBatch:
    """Rows read in one collection (only the ones not emitted yet), committed after they were handed over."""

    ledger: RoundLedger
    error: EndpointError | None = None  # the first failing /rounds answer, if any
    rows: list[dict[str, Any]] = attrs.field(factory=list)
    invalid: int = 0
    scan_from: int | None = None
    rerun_next: int | None = None
    rerun_after_ns: int | None = None

    def commit(self, emitted: list[dict[str, Any]]) -> None:
        """Remember the ``emitted`` rows and move the scan pointers (a row held back is kept by the monitor)."""
        for row in emitted:
            self.ledger.keys.add((row["round"], time_ns_of(row["timestamp"])))
        if self.scan_from is not None:
            self.ledger.scan_from = self.scan_from
        self.ledger.rerun_next, self.ledger.rerun_after_ns = self.rerun_next, self.rerun_after_ns


class RoundLedger:
    """The round keys already stored and where to scan next."""

    def __init__(self, page_size: int, max_pages: int, backfill: bool = True) -> None:
        self.page_size, self.max_pages, self.backfill = page_size, max_pages, backfill
        self.keys: set[RoundKey] = set()
        self.experiments: dict[RoundKey, str] = {}  # experiment of each stored key (to keep a derived name)
        self.scan_from: int | None = 1 if backfill else None  # None: set from the first answer (no backfill)
        self.rerun_next: int | None = None
        self.rerun_after_ns: int | None = None  # rows of the rerun are newer than this

    def known(self, row: dict[str, Any]) -> bool:
        """True when this exact row was stored already."""
        return (row["round"], time_ns_of(row["timestamp"])) in self.keys

    async def fetch(
        self, client: httpx.AsyncClient, latest_round: int, current_round: int | None, training_active: bool = True
    ) -> RoundBatch:
        """Read the rows that may be new, given the server's latest round, current round and whether it trains."""
        batch = RoundBatch(self, scan_from=self.scan_from, rerun_next=self.rerun_next)
        batch.rerun_after_ns = self.rerun_after_ns
        if batch.scan_from is None:  # backfill disabled: everything finished before we came is not ours to store
            batch.scan_from = latest_round + 1
        elif batch.scan_from > latest_round + 1:  # fewer rows than before: a fresh rounds database, read it all
            batch.scan_from = 1
        if batch.scan_from <= latest_round:
            last = await self._read(client, batch, batch.scan_from, latest_round)
            batch.scan_from = latest_round + 1 if last is None else last + 1
        if current_round is None or (latest_round <= current_round and batch.rerun_next is None):
            batch.rerun_next = batch.rerun_after_ns = None
            return batch
        if batch.rerun_after_ns is None:  # a rerun begins: every row it writes is newer than what we know
            batch.rerun_after_ns = max((stamp for _, stamp in self.keys), default=0)
        start = batch.rerun_next or 1
        upto = min(current_round, latest_round)
        if start <= upto and batch.error is None:
            rows: list[dict[str, Any]] = []
            await self._read(client, batch, start, upto, into=rows)
            for row in rows:  # advance over the rows the new run has already replaced, and the ones it never will
                if row["round"] != start:
                    break
                # An old row below the current round stays old: the server writes a round's row before it moves
                # on, so the new run passed it without replacing it (a rerun seen by mistake, or a row it failed
                # to write). Waiting for it would re-read every row from here on at every poll, for good.
                if time_ns_of(row["timestamp"]) <= batch.rerun_after_ns and start >= current_round:
                    break
                start += 1
        # Every row is the new run's, or the run is over: a rerun of the remaining rounds after a policy stop leaves
        # the old rows beyond it for good (and the server then reports the last round as its current one).
        if start > latest_round or (not training_active and current_round >= latest_round):
            batch.rerun_next = batch.rerun_after_ns = None
        else:
            batch.rerun_next = start
        return batch

    async def _read(
        self,
        client: httpx.AsyncClient,
        batch: RoundBatch,
        first: int,
        last: int,
        into: list[dict[str, Any]] | None = None,
    ) -> int | None:
        """Page through ``/rounds`` from ``first`` to ``last``; return the last round read if cut short, else None."""
        offset, last_read = 0, first - 1
        fresh = {(r["round"], r["timestamp"]) for r in batch.rows}
        for _ in range(self.max_pages):
            params = {"start_round": first, "end_round": last, "limit": self.page_size, "offset": offset}
            try:
                body, rows = await get_page(client, "/rounds", "rounds", params)
            except EndpointError as exc:
                batch.error = exc
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
            pagination = body.get("pagination")
            if not rows or not (isinstance(pagination, dict) and pagination.get("has_more")):
                return None
        return last_read  # page budget spent: continue after the rows read, next collection
