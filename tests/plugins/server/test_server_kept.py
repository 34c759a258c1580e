"""``KeptAnswers``: rendered answers kept by question while their version stands, a few questions at most."""

from __future__ import annotations

from flcollector.plugins.server.kept import KeptAnswers


async def test_an_answer_is_kept_per_question_until_its_version_changes() -> None:
    kept, built = KeptAnswers(capacity=2), []

    async def build(text: str) -> bytes:
        built.append(text)
        return text.encode()

    assert await kept.get("a", 1, lambda: build("a1")) == b"a1"
    assert await kept.get("a", 1, lambda: build("again")) == b"a1"  # kept
    assert await kept.get("a", 2, lambda: build("a2")) == b"a2"  # a new version: built anew
    assert await kept.get("b", 1, lambda: build("b1")) == b"b1"
    assert await kept.get("c", 1, lambda: build("c1")) == b"c1"  # a third question: "a", kept longest, goes
    assert await kept.get("b", 1, lambda: build("again")) == b"b1"
    assert await kept.get("a", 2, lambda: build("a2 again")) == b"a2 again"
    assert await kept.get("n", None, lambda: build("n1")) == b"n1"  # no version: never kept
    assert await kept.get("n", None, lambda: build("n2")) == b"n2"
    assert built == ["a1", "a2", "b1", "c1", "a2 again", "n1", "n2"]
    assert (kept.builds, kept.hits) == (7, 2)
