"""What a flow entry matches, read from any controller's spelling of it.

- FLOPY-NET's controller: ``OFPMatch.to_jsondict()``, ``{"OFPMatch": {"oxm_fields": [{"OXMTlv": {"field",
  "mask", "value"}}], ...}}`` (or ``str(match)`` when Ryu could not serialise it: nothing readable);
- stock Ryu ``ofctl_rest``: ``match_to_str``'s flat object with the old names (``dl_src``, ``nw_dst``, ``tp_dst``)
  and the OXM ones it keeps (``in_port``, ``eth_type``...), a masked value as ``"value/mask"``;
- ONOS: the selector's criteria, ``[{"type": "IPV4_SRC", "ip": "10.0.0.1/32"}, ...]``.

A masked address (anything but a /32) is a network, not an address: it is left out, since it cannot name a host.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

#: every spelling of a field -> the field
_NAMES = {
    "in_port": "in_port",
    "eth_src": "eth_src",
    "dl_src": "eth_src",
    "eth_dst": "eth_dst",
    "dl_dst": "eth_dst",
    "ipv4_src": "ipv4_src",
    "nw_src": "ipv4_src",
    "ipv4_dst": "ipv4_dst",
    "nw_dst": "ipv4_dst",
    "ip_proto": "ip_proto",
    "nw_proto": "ip_proto",
    "tcp_src": "l4_src",
    "udp_src": "l4_src",
    "sctp_src": "l4_src",
    "tp_src": "l4_src",
    "tcp_dst": "l4_dst",
    "udp_dst": "l4_dst",
    "sctp_dst": "l4_dst",
    "tp_dst": "l4_dst",
}
#: ONOS criterion type -> the key holding its value
_ONOS_VALUE = {"IN_PORT": "port", "ETH_SRC": "mac", "ETH_DST": "mac", "IPV4_SRC": "ip", "IPV4_DST": "ip"}
_ONOS_VALUE |= {"IP_PROTO": "protocol", "TCP_SRC": "tcpPort", "TCP_DST": "tcpPort", "UDP_SRC": "udpPort"}
_ONOS_VALUE |= {"UDP_DST": "udpPort", "SCTP_SRC": "sctpPort", "SCTP_DST": "sctpPort"}


@attrs.frozen
class Match:
    """The fields of a match that name hosts and services (None: not matched on)."""

    in_port: int | None = None
    eth_src: str | None = None
    eth_dst: str | None = None
    ipv4_src: str | None = None
    ipv4_dst: str | None = None
    ip_proto: int | None = None
    l4_src: int | None = None
    l4_dst: int | None = None

    @property
    def l4_ports(self) -> set[int]:
        """The transport ports matched on (source and destination)."""
        return {p for p in (self.l4_src, self.l4_dst) if p is not None}


def match_of(raw: Any) -> Match:
    """Read a flow's ``match`` in any of the three spellings; anything unreadable reads as "matches all"."""
    if isinstance(raw, Mapping) and isinstance(raw.get("OFPMatch"), Mapping):
        pairs = []
        for tlv in raw["OFPMatch"].get("oxm_fields") or []:
            body = tlv.get("OXMTlv") if isinstance(tlv, Mapping) else None
            if isinstance(body, Mapping) and body.get("mask") is None:
                pairs.append((body.get("field"), body.get("value")))
    elif isinstance(raw, Mapping):
        pairs = list(raw.items())
    elif isinstance(raw, list):
        pairs = []
        for criterion in raw:
            kind = str(criterion.get("type", "")) if isinstance(criterion, Mapping) else ""
            if kind in _ONOS_VALUE:
                pairs.append((kind.lower(), criterion.get(_ONOS_VALUE[kind])))
    else:
        return Match()
    fields: dict[str, Any] = {}
    for name, value in pairs:
        field = _NAMES.get(str(name))
        if field is not None and (converted := _convert(field, value)) is not None:
            fields.setdefault(field, converted)
    return Match(**fields)


def _convert(field: str, value: Any) -> Any:
    """A field's value in one spelling: MACs lower-case, addresses without ``/32``, numbers as ints."""
    if field.startswith("eth_"):
        return str(value).lower() if value is not None and "/" not in str(value) else None
    if field.startswith("ipv4_"):
        text = str(value) if value is not None else ""
        address, _, prefix = text.partition("/")
        return address if address and prefix in ("", "32", "255.255.255.255") else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 0)
    except ValueError:
        return None  # a named port ("LOCAL", "CONTROLLER") or a masked number
