"""The one mapping between our source names and FLOPY-NET's component names.

Records carry our lowercase ``source`` (``fl_server``, ``policy_engine``, ``sdn_controller``, ``flcollector``,
``host``...); FLOPY-NET writes component names in upper case (``FL_SERVER``, ``POLICY_ENGINE``, ``SDN_CONTROLLER``,
``COLLECTOR``, ``RYU_CONTROLLER``...). An event polled from a source is stored under ``source_name()`` of the
component the source wrote, and the dashboard's face shows ``component_name()`` of the stored source, so the
source's own spelling comes back unchanged::

    >>> source_name("FL_SERVER"), component_name("fl_server")
    ('fl_server', 'FL_SERVER')
    >>> source_name("COLLECTOR"), component_name("flcollector")
    ('flcollector', 'COLLECTOR')
    >>> source_name("RYU_CONTROLLER"), component_name("ryu_controller")
    ('ryu_controller', 'RYU_CONTROLLER')

The rule for names the table does not list: an upper-case component name is our name in lower case, and back.
A name that would collide with a listed one, or is not in one case, is kept verbatim both ways. So every upper-case
component name and every lower-case source name survives the round trip (a test walks the cases).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

#: Our source name -> FLOPY-NET's component name, for the names that do not follow the case rule or that the
#: dashboard filters on. Each side appears once, so the table is its own inverse.
SOURCE_COMPONENTS: Mapping[str, str] = MappingProxyType(
    {
        "fl_server": "FL_SERVER",
        "fl_client": "FL_CLIENT",
        "policy_engine": "POLICY_ENGINE",
        "sdn_controller": "SDN_CONTROLLER",
        "flcollector": "COLLECTOR",
        "host": "HOST",
    }
)
_SOURCES: Mapping[str, str] = MappingProxyType({component: source for source, component in SOURCE_COMPONENTS.items()})


def _translate(name: str, table: Mapping[str, str], other_side: Mapping[str, str], case: str) -> str:
    """``table``'s entry for ``name``; else ``name`` in ``case`` when it is all in the other case and does not read as
    a listed name of the other side; else ``name`` as written."""
    listed = table.get(name)
    if listed is not None:
        return listed
    converted, back = (name.upper(), name.lower()) if case == "upper" else (name.lower(), name.upper())
    if name == back and converted not in other_side:
        return converted
    return name  # not one case, or it would read as another listed name: kept as written


def component_name(source: str) -> str:
    """Return FLOPY-NET's component name for our ``source`` (``"fl_server"`` -> ``"FL_SERVER"``)."""
    return _translate(source, SOURCE_COMPONENTS, _SOURCES, "upper")


def source_name(component: str) -> str:
    """Return our source name for FLOPY-NET's ``component`` (``"POLICY_ENGINE"`` -> ``"policy_engine"``)."""
    return _translate(component, _SOURCES, SOURCE_COMPONENTS, "lower")
