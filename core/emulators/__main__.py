"""Serve one emulated FLOPY-NET source with its scripted scenario running: ``python -m flcollector.emulators NAME``.

The container example (``container/compose.yaml``) runs each emulator as its own service, so the collector container
talks to ``fl-server:8081``, ``policy-engine:5000`` and ``sdn-controller:8181`` exactly as in FLOPY-NET (and ``gns3``
listens on the GNS3 server's own default, 3080). The process
logs ``serving <name> at <url>`` once it listens (``--port 0`` picks a free port) and exits 0 on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys

import trio

from .base import Emulator

log = logging.getLogger("flcollector.emulators")

#: emulator name -> (module in this package, class name, FLOPY-NET's port)
EMULATORS: dict[str, tuple[str, str, int]] = {
    "fl-server": ("fl_server", "FlServerEmulator", 8081),
    "policy-engine": ("policy_engine", "PolicyEngineEmulator", 5000),
    "sdn-controller": ("sdn_controller", "SdnControllerEmulator", 8181),
    "gns3": ("gns3", "Gns3Emulator", 3080),
}


def build_emulator(name: str, *, max_rounds: int | None = None, flavour: str = "ryu") -> Emulator:
    """Return a new emulator by its FLOPY-NET service name.

    ``max_rounds`` applies to the FL server only, ``flavour`` (``ryu``, ``ofctl`` or ``onos``) to the SDN controller
    only.
    """
    module_name, class_name, _port = EMULATORS[name]
    cls = getattr(importlib.import_module(f"{__package__}.{module_name}"), class_name)
    kwargs: dict[str, object] = {}
    if name == "fl-server" and max_rounds is not None:
        kwargs["max_rounds"] = max_rounds
    if name == "sdn-controller":
        kwargs["flavour"] = flavour
    emulator: Emulator = cls(**kwargs)
    return emulator


async def serve_one(emulator: Emulator, host: str, port: int, tick: float) -> None:
    """Serve ``emulator`` and step its script every ``tick`` seconds until SIGTERM or SIGINT."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(emulator.serve, host, port)
            log.info("serving %s at %s", emulator.label, url)
            if tick > 0:
                nursery.start_soon(emulator.run_script, tick)
            async for signum in signals:
                log.info("%s: %s received, stopping", emulator.label, signal.Signals(signum).name)
                nursery.cancel_scope.cancel()
                break


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of ``python -m flcollector.emulators``."""
    parser = argparse.ArgumentParser(prog="python -m flcollector.emulators", description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(EMULATORS), help="which source to emulate")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (0.0.0.0 in a container)")
    parser.add_argument(
        "--port",
        type=int,
        help="port (default: FLOPY-NET's: fl-server 8081, policy-engine 5000, sdn-controller 8181, gns3 3080; "
        "0 picks a free one)",
    )
    parser.add_argument("--tick", type=float, default=5.0, help="seconds between scenario steps (0: no script)")
    parser.add_argument("--max-rounds", type=int, help="rounds the emulated FL training runs (fl-server only)")
    parser.add_argument(
        "--flavour",
        choices=["ryu", "ofctl", "onos"],
        default="ryu",
        help="which controller's REST API to serve (sdn-controller only): FLOPY-NET's Ryu, stock Ryu, ONOS",
    )
    parser.add_argument(
        "--log-level", default="INFO", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, then serve the named emulator until stopped."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
    )
    for noisy in ("hypercorn.error", "hypercorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    port = EMULATORS[args.name][2] if args.port is None else args.port
    emulator = build_emulator(args.name, max_rounds=args.max_rounds, flavour=args.flavour)
    trio.run(serve_one, emulator, args.host, port, args.tick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
