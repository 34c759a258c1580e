"""Configuration as it may be shown: plain JSON values with every secret masked (the one masking rule).

Used for what leaves the agent as a description of its set-up: :attr:`AgentView.settings` and the configuration a
manifest quotes (``plugins/rounds``). A value is secret when its key names one (``password``, ``token``,
``api_key``...), and a URL's password is masked in place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

MASK = "***"
_SECRET = re.compile(r"pass|token|secret|credential|api_?key|auth_header", re.IGNORECASE)


def mask_secrets(value: Any, key: str = "") -> Any:
    """``value`` with every secret replaced by ``***``: values of keys that name one, and passwords in URLs."""
    if isinstance(value, Mapping):
        return {str(k): mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_secrets(v, key) for v in value]
    if _SECRET.search(key) and value not in ("", None):
        return MASK
    if isinstance(value, str) and "://" in value and "@" in value:
        parts = urlsplit(value)
        if parts.password:
            netloc = f"{parts.username}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            return urlunsplit(parts._replace(netloc=netloc))
    return value


def plain(value: Any) -> Any:
    """``value`` as JSON-ready values: attrs instances and mappings as dicts, sequences as lists, durations as
    seconds (float), anything else unknown as its text."""
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, float | int | str | bool) or value is None:
        return float(value) if isinstance(value, float) else value
    return str(value)


def masked(options: Any) -> dict[str, Any]:
    """An options or settings instance as it may be shown: :func:`plain` values, secrets masked."""
    document: dict[str, Any] = mask_secrets(plain(options))
    return document
