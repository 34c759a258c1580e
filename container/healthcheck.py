"""The image's HEALTHCHECK: ``GET /health`` on the address the agent's own config resolves to.

Usage: ``healthcheck.py CONFIG`` (run by ``entrypoint.sh --health``, with the environment resolved as for ``run``).
The host and port come from ``load_config``, so ``[server]`` in the file, ``COLLECTOR_HOST``/``COLLECTOR_PORT`` and
FLOPY-NET's ``API_PORT`` are all followed. A wildcard bind (``0.0.0.0``, ``::``) is asked on loopback. Exit 0 when
the agent answers 2xx (healthy or degraded), 1 otherwise, with one line saying why (the engine keeps it in the
container's health log).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from flcollector.config import load_config
from flcollector.errors import ConfigError

WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}
TIMEOUT = 8.0  # the request; with bash and Python starting (about 1.7 s at load 7), under --timeout=10s


def health_url(config_path: str) -> str:
    """``http://host:port/health`` of the first ``server`` listener; ValueError when it cannot be asked."""
    config = load_config(config_path, env=os.environ)
    servers = [c for c in config.of_kind("listener") if c.component == "server"]
    if not servers:
        raise ValueError(f"{config_path} runs no [server] listener: nothing to ask")
    host = WILDCARDS.get(servers[0].options.host, servers[0].options.host)
    port = servers[0].options.port
    if not port:
        raise ValueError("the server listens on port 0 (any free port): set COLLECTOR_PORT to check its health")
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/health"


def main(argv: list[str]) -> int:
    """Ask the agent once; see the module docstring."""
    try:
        url = health_url(argv[0] if argv else os.environ.get("FLCOLLECTOR_CONFIG", "/app/config/container.toml"))
    except (ConfigError, ValueError) as exc:
        print(f"unhealthy: {exc}")
        return 1
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an HTTP(S)_PROXY
    try:
        with opener.open(url, timeout=TIMEOUT) as answer:
            print(f"{url}: {answer.status}")
            return 0
    except urllib.error.HTTPError as exc:
        print(f"{url}: {exc.code} {exc.reason}")
    except (OSError, ValueError) as exc:
        print(f"{url}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
