"""Query-parameter parsing and time formatting, without a server."""

from __future__ import annotations

import pytest
from flcollector.plugins.server.jsonio import iso
from flcollector.plugins.server.params import ParamError, Params, parse_time

T = 1_737_023_400_000_000_000  # 2025-01-16T10:30:00Z


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-16T10:30:00Z",
        "2025-01-16T10:30:00",
        "2025-01-16T11:30:00+01:00",
        "1737023400",
        "1737023400.0",
        "1737023400000",
        "1737023400000000",
        str(T),
    ],
)
def test_times_in_every_accepted_spelling(text: str) -> None:
    assert parse_time("from", text) == T


@pytest.mark.parametrize("text", ["soon", "nan", "2025-13-01", "99999-01-01T00:00:00Z", "1e4x"])
def test_bad_times_name_the_param(text: str) -> None:
    with pytest.raises(ParamError) as error:
        parse_time("from", text)
    assert error.value.param == "from"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2999-01-01T00:00:00Z", 2**63 - 1),
        ("9999-12-31T23:59:59-05:00", 2**63 - 1),
        ("7.5e306", 2**63 - 1),
        ("1e400", 2**63 - 1),
        ("-7.5e306", 0),
        ("-5", 0),
        ("1900-01-01T00:00:00Z", 0),
        ("0001-01-01T00:00:00+05:00", 0),
    ],
)
def test_well_formed_times_beyond_the_store_are_clamped(text: str, expected: int) -> None:
    """Issue 8 item 5: a query bound a store cannot hold is clamped (it then selects nothing or everything), never a
    400; a record's time (ingest) is not clamped: it stays an error naming the field."""
    assert parse_time("from", text, clamp=True) == expected
    assert Params({"from": text}).time("from") == expected
    with pytest.raises(ParamError) as error:
        parse_time("metrics[0].timestamp", text)
    assert error.value.param == "metrics[0].timestamp" and "out of range" in error.value.problem


def test_iso_output_is_utc_with_z() -> None:
    assert iso(T + 123_456_789) == "2025-01-16T10:30:00.123456Z"
    assert iso(None) is None


def test_params_listing_tags_and_levels() -> None:
    params = Params(
        {"name": "a,b"}, [("name", "a,b"), ("name", "c"), ("tag.host", "n1"), ("tag.", "x"), ("level", "warning,error")]
    )
    assert params.listing("name") == ["a", "b", "c"]
    assert params.tags() == {"host": "n1"}
    assert params.levels("level") == ["WARNING", "ERROR"]
    assert params.integer("missing", default=7) == 7
    assert params.duration("timeframe", default=60.0) == 60.0


def test_a_requests_query_reads_as_starlettes_and_only_short_ones_are_kept() -> None:
    from flcollector.plugins.server import params as params_module
    from starlette.requests import Request

    def request(raw: bytes) -> Request:
        return Request({"type": "http", "query_string": raw, "headers": []})

    samples = [
        b"",
        b"limit=100",
        b"name=a&name=b&name=",
        b"type=network&x",
        b"q=%20a+b%26c&tag.host=n%C3%A9",
        b"a=1&a=2",
        b"bad=%zz&\xe9=\xe9",
        b"x" * (params_module.MAX_KEPT_QUERY + 1) + b"=1&limit=5",
    ]
    params_module._parsed_query.cache_clear()
    for raw in samples:
        ours, theirs = Params.of(request(raw)), request(raw).query_params
        assert dict(ours.query) == dict(theirs) and ours.multi == theirs.multi_items(), raw
        assert Params.of(request(raw)).multi == ours.multi  # the kept answer, asked again
    kept = params_module._parsed_query.cache_info()
    assert (kept.currsize, kept.hits) == (len(samples) - 1, len(samples) - 1)  # the long one is parsed, not kept
    with pytest.raises(TypeError):
        Params.of(request(b"limit=1")).query["limit"] = "2"  # type: ignore[index]  # shared: read-only
