"""``flcollector.implements``: a store's optional capability, asked once per store class.

The routes ask it on every request (``/api/v1/fl/metrics`` through ``metrics_version``, the paged routes for their
stores' JSON rows), so it must answer as ``isinstance`` would, for a class, its subclasses and a protocol a plugin
defines itself.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Protocol, runtime_checkable

from flcollector import VersionedStore, implements, metrics_version


@runtime_checkable
class Rewinding(Protocol):
    """A capability a third-party plugin might define for its own store."""

    def rewind(self) -> None:
        """Go back to the start."""
        ...


class PlainStore:
    """Has none of the capabilities."""


class VersionedOnly:
    """Keeps a version of its metric names."""

    def __init__(self) -> None:
        self.asked: list[Sequence[str]] = []

    def metrics_version(self, names: Sequence[str]) -> Hashable:
        """The names asked, as the version (a real store returns its commit counts)."""
        self.asked.append(names)
        return tuple(names)


class RewindingAndVersioned(VersionedOnly):
    """A subclass that adds a capability of its own."""

    def rewind(self) -> None:
        """Nothing to rewind here."""


def test_answers_as_isinstance_for_every_class_and_protocol() -> None:
    stores = [PlainStore(), VersionedOnly(), RewindingAndVersioned()]
    for protocol in (VersionedStore, Rewinding):
        for store in stores:
            assert implements(store, protocol) is isinstance(store, protocol), (type(store), protocol)
    assert [implements(s, VersionedStore) for s in stores] == [False, True, True]
    assert [implements(s, Rewinding) for s in stores] == [False, False, True]


def test_asks_again_with_the_same_answer() -> None:
    store = VersionedOnly()
    first = [implements(store, VersionedStore), implements(store, Rewinding)]
    assert [implements(VersionedOnly(), VersionedStore), implements(VersionedOnly(), Rewinding)] == first


def test_metrics_version_is_none_for_a_store_without_versions() -> None:
    store = VersionedOnly()
    assert metrics_version(store, ["fl_round"]) == ("fl_round",)  # type: ignore[arg-type]
    assert store.asked == [["fl_round"]]
    assert metrics_version(PlainStore(), ["fl_round"]) is None  # type: ignore[arg-type]
