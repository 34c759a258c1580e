"""The one mapping between our source names and FLOPY-NET's component names, and the Event's ``origin_id``."""

from __future__ import annotations

import pytest
from flcollector import SOURCE_COMPONENTS, Event, component_name, record_from_dict, record_to_dict, source_name


@pytest.mark.parametrize(
    ("source", "component"),
    [
        ("fl_server", "FL_SERVER"),
        ("policy_engine", "POLICY_ENGINE"),
        ("sdn_controller", "SDN_CONTROLLER"),
        ("flcollector", "COLLECTOR"),
        ("host", "HOST"),
        ("ryu_controller", "RYU_CONTROLLER"),  # not listed: the case rule
        ("fl-2", "FL-2"),  # an instance name
    ],
)
def test_listed_and_ruled_names_map_both_ways(source: str, component: str) -> None:
    assert component_name(source) == component
    assert source_name(component) == source


@pytest.mark.parametrize(
    "component",
    ["FL_SERVER", "COLLECTOR", "RYU_CONTROLLER", "FL_CLIENT", "FLCOLLECTOR", "GNS3", "NETWORK_MONITOR", "Mixed_Case"],
)
def test_every_component_spelling_survives_the_round_trip(component: str) -> None:
    assert component_name(source_name(component)) == component


@pytest.mark.parametrize("source", ["fl_server", "flcollector", "collector", "system", "probe-lan", "Odd_Name"])
def test_every_source_name_survives_the_round_trip(source: str) -> None:
    assert source_name(component_name(source)) == source


def test_names_that_would_collide_are_kept_verbatim() -> None:
    # "collector" would read as COLLECTOR, which is flcollector's: it stays as written, and so does FLCOLLECTOR
    assert component_name("collector") == "collector"
    assert source_name("FLCOLLECTOR") == "FLCOLLECTOR"


def test_the_table_is_its_own_inverse() -> None:
    assert len(set(SOURCE_COMPONENTS.values())) == len(SOURCE_COMPONENTS)
    for source, component in SOURCE_COMPONENTS.items():
        assert source_name(component) == source


def test_origin_id_round_trips_through_the_record_dict() -> None:
    event = Event("ROUND_COMPLETED", source="fl_server", id=7, origin_id="0b4d6a52-8f0e-4c1f-9d7e-2a6c1e3f5b70")
    data = record_to_dict(event)
    assert data["origin_id"] == event.origin_id and data["id"] == 7
    assert record_from_dict(data) == event
    older = {key: value for key, value in data.items() if key != "origin_id"}  # a record written before the field
    assert record_from_dict(older) == Event("ROUND_COMPLETED", time_ns=event.time_ns, source="fl_server", id=7)
