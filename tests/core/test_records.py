"""record_to_dict: the metric fast path gives exactly the converter's dict."""

from __future__ import annotations

import attrs
from flcollector import Metric, record_from_dict, record_to_dict
from flcollector.records import converter


def test_a_metric_dict_is_the_converters_own_in_the_same_key_order_and_shares_nothing() -> None:
    metric = Metric("sdn_port", {"rx_bps": 1.5, "up": True, "n": 3, "state": "ok"}, 7, {"switch": "s1"},
                    "sdn_controller", "exp", 2)
    data = record_to_dict(metric)
    expected = converter.unstructure(metric) | {"kind": "metric"}
    assert list(data.items()) == list(expected.items())
    assert data["fields"] is not metric.fields and data["tags"] is not metric.tags
    assert record_from_dict(data) == metric


def test_a_subclass_still_goes_through_the_converter() -> None:
    @attrs.frozen(slots=True)
    class Tagged(Metric):
        note: str = "extra"

    assert record_to_dict(Tagged("m", {"v": 1.0}, 1))["note"] == "extra"
