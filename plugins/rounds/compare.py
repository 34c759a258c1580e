"""Did the round get the network it was configured to have? Configured against observed, with a tolerance.

GNS3's delay filter throttles throughput and adds more delay than configured (and a loss filter may not show as
configured), so a researcher needs to be told when the network observed differs from the one asked for. A
quantity disagrees when ``|observed - configured| > max(tolerance x configured, floor)``: 20 % of the configured
value by default, but never less than the floor (5 ms, 1 %), so that noise around a configured zero is no finding.
Delays are compared as round-trip times added to the path (the configured one counts each link's delay twice,
since uBridge delays both directions; the observed one is the probes' fastest handshake per collection, averaged
over the round, above the same in the latest rounds with nothing configured); losses as round-trip losses.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Finding:
    """One comparison: whether it disagrees, and a line saying what was configured and observed."""

    quantity: str
    configured: float
    observed: float
    disagrees: bool

    def line(self, unit: str) -> str:
        """``"latency: configured +160.0 ms, observed +0.1 ms"``."""
        return f"{self.quantity}: configured {self.configured:+.1f} {unit}, observed {self.observed:+.1f} {unit}"


def compare(quantity: str, configured: float | None, observed: float | None, tolerance: float,
            floor: float) -> Finding | None:
    """The finding for one quantity, None when either side is unknown."""
    if configured is None or observed is None:
        return None
    allowed = max(tolerance * abs(configured), floor)
    return Finding(quantity, configured, observed, abs(observed - configured) > allowed)
