"""The InfluxDB line-protocol parser."""

from __future__ import annotations

import pytest
from flcollector.plugins.server.lineprotocol import PRECISION_NS, LineProtocolError, parse, parse_line
from hypothesis import given
from hypothesis import strategies as st


def test_types_tags_and_timestamp() -> None:
    (metric,) = parse('cpu,host=n1,region=eu usage=1.5,count=3i,big=7u,ok=t,bad=FALSE,msg="hi" 1700000000000000000')
    assert metric.name == "cpu"
    assert metric.tags == {"host": "n1", "region": "eu"}
    assert metric.fields == {"usage": 1.5, "count": 3, "big": 7, "ok": True, "bad": False, "msg": "hi"}
    assert metric.time_ns == 1_700_000_000_000_000_000
    assert metric.source == "ingest"


def test_escapes_and_quoted_strings() -> None:
    (metric,) = parse(r'my\ meas,tag\,k=v\=1\ x f\=x="a \"q\" b, c=d\\",n=-1e3')
    assert metric.name == "my meas"
    assert metric.tags == {"tag,k": "v=1 x"}
    assert metric.fields == {"f=x": 'a "q" b, c=d\\', "n": -1000.0}



def test_an_escaped_equals_sign_belongs_to_the_tag_key() -> None:
    # InfluxDB escapes "=" in tag keys as in field keys: the key ends at the first unescaped "="
    (metric,) = parse(r"m,e\=q=v,t=a\=b f\=x=1 1")
    assert metric.tags == {"e=q": "v", "t": "a=b"}
    assert metric.fields == {"f=x": 1.0}
    with pytest.raises(LineProtocolError, match="bad tag"):
        parse(r"m,e\= f=1 1")  # an escaped "=" is no separator: this tag has no value

@pytest.mark.parametrize(
    ("precision", "factor"), [("s", 10**9), ("ms", 10**6), ("us", 10**3), ("u", 10**3), ("ns", 1), ("h", 3600 * 10**9)]
)
def test_precision(precision: str, factor: int) -> None:
    (metric,) = parse("m v=1 42", precision)
    assert metric.time_ns == 42 * factor


def test_axes_from_tags_comments_and_blank_lines() -> None:
    metrics = parse("# comment\n\nm,source=fl_client,experiment=e1,round=7,client=c1 acc=0.5\n  \nm v=2\n")
    assert len(metrics) == 2
    first = metrics[0]
    assert (first.source, first.experiment, first.round, first.tags) == ("fl_client", "e1", 7, {"client": "c1"})
    assert metrics[1].time_ns == first.time_ns  # both stamped with the request time


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ("m", 1, "expected"),
        ("m v=1\nm,x v=1", 2, "bad tag"),
        ("m v=", 1, "no value"),
        ("m v=abc", 1, "bad value"),
        ("m v=1x", 1, "bad value"),
        ("m v=1.5i", 1, "bad integer"),
        ("m v=-1u", 1, "bad unsigned"),
        ('m v="open', 1, "unterminated"),
        ("m v=1 notatime", 1, "bad timestamp"),
        ("m v=1 1 2", 1, "unexpected text"),
        ("\n\nm =1", 3, "bad field"),
        ("m v=nan", 1, "finite"),
        ("m,round=x v=1", 1, "round"),
        (",t=1 v=1", 1, "empty measurement"),
    ],
)
def test_errors_name_line_and_problem(body: str, line: int, words: str) -> None:
    with pytest.raises(LineProtocolError) as error:
        parse(body)
    assert error.value.line == line
    assert words in str(error.value) and f"line {line}" in str(error.value)


def test_unknown_precision() -> None:
    with pytest.raises(ValueError, match="precision"):
        parse("m v=1", "fortnights")


names = st.text(st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=8)


@given(
    name=names,
    tags=st.dictionaries(names, names, max_size=3),
    fields=st.dictionaries(
        names,
        st.one_of(
            st.integers(-(2**62), 2**62),
            st.booleans(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(st.characters(codec="ascii", exclude_characters="\n\r"), max_size=10),
        ),
        min_size=1,
        max_size=4,
    ),
    ts=st.integers(0, 2**62),
)
def test_round_trip(name: str, tags: dict, fields: dict, ts: int) -> None:
    def esc(s: str) -> str:
        return s.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return f"{v}i"
        if isinstance(v, float):
            return repr(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    tags = {k: v for k, v in tags.items() if k not in ("source", "experiment", "round")}
    head = esc(name) + "".join(f",{esc(k)}={esc(v)}" for k, v in tags.items())
    line = f"{head} {','.join(f'{esc(k)}={value(v)}' for k, v in fields.items())} {ts}"
    (metric,) = parse(line)
    assert (metric.name, metric.tags, metric.fields, metric.time_ns) == (name, tags, fields, ts)


FAST_PATH_CORPUS = [
    "cpu usage=1.5",
    "cpu,host=n1,region=eu usage=1.5,count=3i,big=7u,ok=t,bad=FALSE 1700000",
    "cpu,host=n1,region=eu usage=-2e3,n=-4i,x=.5 1700001",
    "cpu,source=fl_server,experiment=e1,round=3 acc=0.9 17",
    r"my\ meas,tag\,k=v\=1\ x f\=x=1i",
    r'log,host=a msg="a b, c=d \"q\" \\" 5',
    'log msg="plain"',
    "mem,host=n2 free=10u,t=true,f=false,T=T,F=F 5",
    "disk,host=n3 used=1_000 1_000",
    "net,host=n1,a=b=c rx=1",
    "net,host=n1 rx=1 +10",
]


@pytest.mark.parametrize("precision", ["ns", "n", "us", "u", "µs", "ms", "s", "m", "h"])
def test_fast_path_matches_full_parser(precision: str) -> None:
    """Every line gives the same record whether or not it took the fast path (parse_line is the full parser)."""
    scale = PRECISION_NS[precision]
    body = "\n".join(FAST_PATH_CORPUS * 2)  # repeated tag sets exercise the tag-set cache
    metrics = parse(body, precision, source="src")
    expected = [parse_line(line, 1, scale, metrics[0].time_ns, "src") for line in FAST_PATH_CORPUS * 2]
    # Lines without a timestamp take the parse call's clock; align it with the first such record.
    assert metrics[0].time_ns == expected[0].time_ns
    assert metrics == expected


def test_fast_path_records_do_not_share_tags() -> None:
    first, second = parse("cpu,host=a v=1\ncpu,host=a v=2")
    assert first.tags == second.tags == {"host": "a"}
    assert first.tags is not second.tags


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("cpu,host=a v=1e999", "not a finite number"),
        ("cpu,host=a v=inf", "not a finite number"),
        ("cpu,host=a v=1 12x", "bad timestamp"),
        ("cpu,round=²,host=a v=1", "tag 'round' must be an integer"),
        ("cpu,host=a v=1 99999999999999999999999", "out of range"),
        ("cpu,host=a v=1 -5", "out of range"),
        ("cpu,host=a v=18446744073709551615i", "beyond 64 bits"),
        (f"cpu,round={'9' * 5000},host=a v=1", "tag 'round' must be an integer"),
        ("cpu,host=a v=abc", "bad value"),
    ],
)
def test_fast_path_errors_come_from_the_full_parser(line: str, problem: str) -> None:
    with pytest.raises(LineProtocolError) as caught:
        parse(f"ok v=1\n{line}")
    assert caught.value.line == 2
    assert problem in caught.value.problem


def test_plain_lines_skip_the_full_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard the point of the fast path: escape- and quote-free lines never reach parse_line."""
    from flcollector.plugins.server import lineprotocol

    slow_lines: list[str] = []

    def counting(line: str, *args: object) -> object:
        slow_lines.append(line)
        return parse_line(line, *args)

    monkeypatch.setattr(lineprotocol, "parse_line", counting)
    metrics = parse('cpu,host=a v=1,n=2i,ok=t 5\ncpu,host=a v=2\nlog msg="x y"')
    assert [m.fields for m in metrics] == [{"v": 1.0, "n": 2, "ok": True}, {"v": 2.0}, {"msg": "x y"}]
    assert slow_lines == ['log msg="x y"']


@pytest.mark.parametrize(
    ("body", "precision", "words"),
    [
        ("pp v=1 99999999999999999999999", "ns", "timestamp '99999999999999999999999' is out of range"),
        ("pp v=1 3000000", "h", "out of range: at this precision"),  # 3,000,000 h is past 2262
        ("pp,round=1e23 v=1", "ns", "tag 'round' must be an integer in [0, 2147483647]"),
        ("pp,round=99999999999 v=1", "ns", "tag 'round'"),
        (f"pp,round={'9' * 5000} v=1", "ns", "tag 'round'"),  # int() of 5,000 digits raised: a 500
        ("pp v=18446744073709551615u", "ns", "beyond 64 bits"),
        ("pp v=-9223372036854775809i", "ns", "beyond 64 bits"),
        (f"pp v={'9' * 5000}i", "ns", "bad integer"),
        (f"pp v=1 {'9' * 5000}", "ns", "bad timestamp"),
    ],
)
def test_values_no_sink_can_store_are_errors_naming_the_line(body: str, precision: str, words: str) -> None:
    """Issue 13: these were answered 2xx, then failed the SQLite batch they landed in (or a 500)."""
    with pytest.raises(LineProtocolError) as caught:
        parse(f"ok v=1\n{body}", precision)
    assert caught.value.line == 2 and words in str(caught.value)
    assert len(str(caught.value)) < 200  # a huge value is cut in the message


def test_the_edges_of_the_ranges_are_accepted() -> None:
    top, bottom = parse("m,round=2147483647 a=9223372036854775807i,b=-9223372036854775808i,c=9223372036854775807u 0\n"
                        "m v=1 9223372036854775807")
    assert top.round == 2147483647 and top.time_ns == 0 and top.fields["c"] == 2**63 - 1
    assert bottom.time_ns == 2**63 - 1


def test_chunks_cover_the_body_in_order_with_their_line_numbers() -> None:
    from flcollector.plugins.server.lineprotocol import chunks

    text = "\n".join(f"m v={i}" for i in range(10)) + "\n"
    pieces = list(chunks(text, 3))
    assert "".join(piece for _, piece in pieces) == text
    assert [number for number, _ in pieces] == [1, 4, 7, 10]
    parsed = [m for number, piece in pieces for m in parse(piece, first_line=number, default_ns=5)]
    assert [m.fields["v"] for m in parsed] == [float(i) for i in range(10)]
    with pytest.raises(LineProtocolError) as caught:
        for number, piece in chunks("m v=1\n" * 7 + "bad\n", 3):
            parse(piece, first_line=number)
    assert caught.value.line == 8
