"""The ``report`` exporter: an experiment's self-contained HTML report (figures inline), from a streaming store.

matplotlib is an optional extra (``pip install 'flcollector[report]'``): the exporter is always registered and
says what to install. The data is read on the Trio thread (the store's own worker threads do the SQL); the
figures are drawn in a worker thread, one report at a time (matplotlib's shared state is not thread-safe).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import trio
from flcollector import BulkStore, Exporter, ExportSource, Record, Selection, __version__

from .report_data import ReportData, gather
from .report_figures import FIGURES
from .report_html import page
from .tables import check_options, write_atomically

INSTALL_HINT = "the report needs matplotlib: pip install 'flcollector[report]'"
_DRAWING = threading.Lock()  # one report drawn at a time, whichever thread or Trio run asks


def require_matplotlib() -> None:
    """Raise RuntimeError with the install hint when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise RuntimeError(INSTALL_HINT) from None


def draw(data: ReportData) -> str:
    """Render every figure and the page (blocking: run it in a worker thread)."""
    with _DRAWING:
        import matplotlib

        matplotlib.use("Agg", force=True)  # never a display, whatever MPLBACKEND says
        pngs = {key: function(data) for key, _title, _caption, function in FIGURES}
    return page(data, pngs, __version__)


async def render(store: BulkStore, experiment: str | None) -> str:
    """Return the report of ``experiment`` (None: every record) as HTML text."""
    require_matplotlib()
    data = await gather(store, experiment)
    return await trio.to_thread.run_sync(draw, data)


class ReportExporter(Exporter):
    """Writes the HTML report of the selection's experiment (its other filters are ignored: a report shows the
    whole experiment). No options."""

    name: ClassVar[str] = "report"
    suffix: ClassVar[str] = ".html"

    async def export(self, records: Sequence[Record], path: Path, options: dict[str, Any]) -> Path:
        """A report needs the store (it aggregates there): refuse a plain list of records."""
        raise RuntimeError("the report needs a store that streams and aggregates (the sqlite store)")

    async def export_source(self, source: ExportSource, path: Path, options: dict[str, Any]) -> list[Path]:
        """Render the report of ``source.selection.experiment`` and write it to ``path``."""
        check_options(self.name, options, {})
        text = await render(source.store, source.selection.experiment)
        await trio.to_thread.run_sync(write_atomically, path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        return [path]

    async def render(self, store: BulkStore, selection: Selection) -> str:
        """Return the report of the selection's experiment as HTML (for the export API's ``/api/v1/report``)."""
        return await render(store, selection.experiment)
