"""Flow and port counters as one snapshot, for controllers that answer from counters their stats loop refreshes.

FLOPY-NET's controller and ONOS answer the REST API from what their own stats loop last got from the switches: the
counters are steps, a whole stats period of traffic at once. Read in separate requests (they cannot be asked in
one), a refresh landing between the flow table's request and a switch's port counters puts that period in one and
not the other: in the interval's traffic of one source and the next interval's of the other, and on the poll that
starts the baselines (or ends what a round table sums) in one source only. A flow table that reads the same before
and after the port counters were read means no refresh came in between: flows and ports are one snapshot, timed by
when the port counters answered. When it changed, the port counters are read again and the flow table after them,
at most :data:`TRIES` times in all; then the last reads are kept, each timed by its own answer. Either way the
flow table's own answer time is kept too: the entries' ages were measured then.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from flcollector import EndpointError

from .poll import Poll

TRIES = 3  # flow table reads after the port counters, at most (counters refreshed faster are kept as they came)
Flows = dict[str, list[dict[str, Any]]]


def flow_counters(flows: Flows) -> dict[tuple[str, str], tuple[int, int]]:
    """Every flow's byte and packet counters, by switch and flow id (what a stats refresh changes)."""
    return {(dpid, f["flow_id"]): (f["byte_count"], f["packet_count"]) for dpid, fs in flows.items() for f in fs}


async def settle(
    poll: Poll,
    opened: Flows,
    read_flows: Callable[[], Awaitable[tuple[int, Flows] | None]],
    read_ports_again: Callable[[], Awaitable[None]],
) -> tuple[int, Flows, int] | None:
    """The flow table read after ``poll``'s port counters as ``(when it holds, the table, when it answered)`` (see
    the module docstring), or None when it is unknown this time (its error filed in ``poll.errors``). ``opened`` is
    the table read before them; ``read_ports_again`` reads the port counters into ``poll`` again."""
    for attempt in range(TRIES):
        if attempt:  # a refresh came in between: the port counters again, then the flow table after them
            await read_ports_again()
        try:
            closed = await read_flows()
        except EndpointError as exc:
            poll.errors.append(exc)
            return None
        if closed is None:
            return None
        answered_at, table = closed
        if flow_counters(table) == flow_counters(opened):
            held_at = max((read_at for read_at, _ in poll.port_counters.values()), default=answered_at)
            return held_at, table, answered_at
        opened = table
    return answered_at, opened, answered_at  # still moving: each read timed by its own answer
