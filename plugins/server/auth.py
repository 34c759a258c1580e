"""Authentication as pure ASGI middleware: bearer token or HTTP Basic, for HTTP and WebSocket alike.

Active when ``auth_enabled`` is true or a ``token`` is set. ``/health`` stays open. HTTP Basic is accepted because
the FLOPY-NET dashboard always sends it. Browsers cannot set headers on WebSockets, so ``?token=`` also works there.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from .jsonio import dumps, error_body

OPEN_PATHS = frozenset({"/health"})


class AuthMiddleware:
    """Reject unauthenticated requests with a JSON 401 (HTTP) or a 1008 close (WebSocket)."""

    def __init__(self, app: Any, *, username: str | None, password: str | None, token: str | None) -> None:
        self.app = app
        self.token = token
        self.basic = (username, password) if username is not None and password is not None else None

    def _ok(self, scope: dict[str, Any]) -> bool:
        header = ""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and self.token:
            return hmac.compare_digest(credentials.strip().encode(), self.token.encode())
        if scheme == "basic" and self.basic:
            try:
                user, _, password = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return hmac.compare_digest(user.encode(), self.basic[0].encode()) and hmac.compare_digest(
                password.encode(), self.basic[1].encode()
            )
        if scope["type"] == "websocket" and self.token:
            from urllib.parse import parse_qs

            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            return any(hmac.compare_digest(t.encode(), self.token.encode()) for t in query.get("token", []))
        return False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Pass authenticated requests (and ``/health``) on; answer the rest."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        authenticated = self._ok(scope)
        if authenticated or scope["path"] in OPEN_PATHS:
            # An open path answers everyone, but says more to the authenticated (``request.state.authenticated``).
            scope.setdefault("state", {})["authenticated"] = authenticated
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "authentication required"})
            return
        body = dumps(error_body(401, "authentication required: use 'Authorization: Bearer <token>' or HTTP Basic"))
        challenge = (
            'Bearer realm="flcollector", Basic realm="flcollector"' if self.token else 'Basic realm="flcollector"'
        )
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", challenge.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
