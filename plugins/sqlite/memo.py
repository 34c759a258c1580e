"""Answers kept until the store writes: the reads the status routes repeat on every poll.

``/health``'s store facts, the newest metric per series and the newest event of a type change only when a commit
adds or deletes rows. The writer counts those rows after each commit, so the counters are a version of the data:
an answer read after taking the version is at least that new, and while the version stands no commit has changed
what it was read from. A write of any kind drops every kept answer (the memo only ever holds the current version's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
#: Distinct questions kept per version at most (the keys come from request parameters, so they are bounded).
MAX_KEPT = 256


class WriteMemo:
    """Answers by question, all read at one version of the store; a new version empties it."""

    def __init__(self) -> None:
        self._version: Hashable = None
        self._answers: dict[Hashable, Any] = {}

    async def get(
        self,
        version: Hashable,
        key: Hashable,
        read: Callable[[], Awaitable[T]],
        holds: Callable[[T], bool] | None = None,
    ) -> T:
        """The answer to ``key`` at ``version``: as kept (when ``holds(kept)``, if given), else ``await read()``
        (kept when the version still holds)."""
        if version != self._version:
            self._version, self._answers = version, {}
        elif key in self._answers and (holds is None or holds(self._answers[key])):
            answer: T = self._answers[key]
            return answer
        answer = await read()
        if version == self._version and len(self._answers) < MAX_KEPT:  # a write while reading: not kept
            self._answers[key] = answer
        return answer

    def kept(self, version: Hashable, key: Hashable) -> Any | None:
        """The answer to ``key`` kept at ``version`` (one that need not be read again), or None."""
        return self._answers.get(key) if version == self._version else None

    def clear(self) -> None:
        """Forget every answer (the store was opened again)."""
        self._version, self._answers = None, {}
