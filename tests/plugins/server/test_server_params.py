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


@pytest.mark.parametrize("text", ["soon", "-5", "nan", "2025-13-01"])
def test_bad_times_name_the_param(text: str) -> None:
    with pytest.raises(ParamError) as error:
        parse_time("from", text)
    assert error.value.param == "from"


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
