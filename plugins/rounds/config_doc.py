"""The agent's resolved configuration as a manifest quotes it: every running component with its options, secrets
masked, and a hash of that document (SHA-256 of its canonical JSON), so two runs can be told apart by one string."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs
import orjson

MASK = "***"
KINDS = ("monitor", "listener", "processor", "sink")
_SECRET = re.compile(r"pass|token|secret|credential|api_?key|auth_header", re.IGNORECASE)


def mask(value: Any, key: str = "") -> Any:
    """``value`` with every secret replaced by ``***``: values of keys that name one, and passwords in URLs."""
    if isinstance(value, Mapping):
        return {str(k): mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, key) for v in value]
    if _SECRET.search(key) and value not in ("", None):
        return MASK
    if isinstance(value, str) and "://" in value and "@" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return {f.name: _plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return float(value) if isinstance(value, float) else value
    return str(value)


def resolved_config(agent: Any) -> dict[str, Any]:
    """Every enabled component of ``agent`` as the config resolved it (``AgentView.configured``): its options and,
    for a monitor, its interval; secrets masked."""
    document: dict[str, Any] = {"version": agent.version}
    for kind in KINDS:
        entries = []
        for item in agent.configured(kind):
            entry: dict[str, Any] = {"name": item.name, "instance": item.instance, "plugin": item.plugin}
            if item.interval is not None:
                entry["interval_s"] = float(item.interval)
            entry["options"] = mask(_plain(item.options))
            entries.append(entry)
        document[f"{kind}s"] = entries
    return document


def config_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``document`` (sorted keys)."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
