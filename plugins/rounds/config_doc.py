"""The agent's resolved configuration as a manifest quotes it: the ``[agent]`` settings and every running component
with its options, secrets masked (:func:`flcollector.masked`), and a hash of that document (SHA-256 of its canonical
JSON), so two runs can be told apart by one string."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from flcollector import masked

KINDS = ("monitor", "listener", "processor", "sink")


def resolved_config(agent: Any) -> dict[str, Any]:
    """The ``[agent]`` settings (``AgentView.settings``) and every enabled component of ``agent`` as the config
    resolved it (``AgentView.configured``): its options and, for a monitor, its interval; secrets masked."""
    document: dict[str, Any] = {"version": agent.version, "agent": dict(agent.settings)}
    for kind in KINDS:
        entries = []
        for item in agent.configured(kind):
            entry: dict[str, Any] = {"name": item.name, "instance": item.instance, "plugin": item.plugin}
            if item.interval is not None:
                entry["interval_s"] = float(item.interval)
            entry["options"] = masked(item.options)
            entries.append(entry)
        document[f"{kind}s"] = entries
    return document


def config_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of ``document`` (sorted keys)."""
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()
