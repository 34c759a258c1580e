"""Property-based fuzzing from ``/openapi.json``: no request, however malformed, gets a 5xx.

Hypothesis runs in a worker thread and performs each request on the test's Trio loop through
``trio.from_thread``, so the real server (and the real pipeline) answer every generated example.
"""

from __future__ import annotations

from typing import Any

import orjson
import trio
from flcollector import Event, Metric
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

text = st.text(max_size=30)
values = st.one_of(
    text,
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(str),
    st.sampled_from(["", "true", "asc", "desc", "1h", "2025-01-16T10:30:00Z", "-1", "0", "1e400", "fl_round"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=10,
)


#: Parameter names tried on routes whose OpenAPI entry lists none (the dashboard's upstream-compatible routes).
UPSTREAM_PARAMS = (
    "limit",
    "offset",
    "type",
    "metric_type",
    "start_time",
    "end_time",
    "since_id",
    "level",
    "event_level",
    "source_component",
    "component",
    "format",
    "sort_order",
    "min_round",
    "max_round",
    "include_raw",
    "since_round",
    "source",
    "include_metrics",
    "summary_limit",
    "start_round",
)


def query_strategy(operation: dict[str, Any]) -> st.SearchStrategy[dict[str, str]]:
    """Optional values for every query parameter the operation lists (or the upstream names if none)."""
    names = [p["name"].replace("<key>", "host") for p in operation.get("parameters", []) if p["in"] == "query"]
    return st.fixed_dictionaries({}, optional={name: values for name in names or UPSTREAM_PARAMS})


async def test_no_generated_request_gets_a_5xx(running) -> None:
    await running.send(
        [
            Metric("fl_round", {"accuracy": 0.5}, round=1),
            Metric("network", {"switches": 2}),
            Event("LINK_DOWN", level="ERROR", source="sdn_controller"),
        ]
    )
    document = (await running.client.get("/openapi.json")).json()
    gets = sorted((path, op["get"]) for path, op in document["paths"].items() if "get" in op and "{" not in path)
    ingest_bodies = st.one_of(
        json_values,
        st.fixed_dictionaries(
            {}, optional={"metrics": st.lists(json_values, max_size=3), "events": st.lists(json_values, max_size=3)}
        ),
        st.fixed_dictionaries(
            {
                "metrics": st.lists(
                    st.fixed_dictionaries(
                        {"name": values, "fields": st.dictionaries(text, json_values, max_size=2)},
                        optional={
                            "tags": json_values,
                            "time_ns": json_values,
                            "round": json_values,
                            "timestamp": values,
                        },
                    ),
                    max_size=2,
                )
            }
        ),
    ).map(orjson.dumps)
    cases: list[tuple[str, str, st.SearchStrategy[dict[str, str]], st.SearchStrategy[bytes]]] = [
        ("GET", path, query_strategy(operation), st.just(b"")) for path, operation in gets
    ]
    cases.append(("POST", "/api/v1/ingest", st.just({}), ingest_bodies))
    for path in ("/write", "/api/v2/write"):
        cases.append(
            (
                "POST",
                path,
                st.fixed_dictionaries({}, optional={"precision": values}),
                st.one_of(text, st.just('m,t=1 v=1i,s="x" 1')).map(str.encode),
            )
        )
    failures: list[str] = []

    async def call(method: str, path: str, params: dict[str, str], body: bytes) -> int:
        response = await running.client.request(method, path, params=params, content=body or None)
        return response.status_code

    def fuzz(
        method: str, path: str, params: st.SearchStrategy[dict[str, str]], bodies: st.SearchStrategy[bytes]
    ) -> None:
        @settings(
            max_examples=60 if method == "POST" else 25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(params, bodies)
        def check(query: dict[str, str], body: bytes) -> None:
            status = trio.from_thread.run(call, method, path, query, body)
            if status >= 500:
                failures.append(f"{status}: {method} {path} {query!r} {body[:200]!r}")

        check()

    with trio.fail_after(300):
        for case in cases:
            await trio.to_thread.run_sync(fuzz, *case)
    assert failures == [], "\n".join(failures[:20])
