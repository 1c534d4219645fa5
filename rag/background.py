"""The demo's start when the catalog index is not in the cache yet, and the background build it may run.

settings.demo.startup chooses (both measured by benchmarks/first_answer.py):
- "unpack": unpack the shipped pack (index.default.ensure_index) before serving; the full catalog answers the first
  question.
- "background": serve the sample index at once and build the catalog index from the pack's catalogs on one
  background thread, with the embedder the app already loaded; it swaps in when done, and answers keep flowing
  meanwhile, more slowly. This is also the way whenever the pack cannot be used (e.g. another embedder).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from core.config import Settings, Startup
from core.errors import IndexLoadError
from core.memory import release_memory
from index.default import index_is_current, usable_pack
from index.pack import pack_sources, read_pack

Progress = Callable[[int, int], None]


def background_sources(settings: Settings) -> list[str] | None:
    """The catalogs to build in the background while the sample serves, or None: serve settings.index.index_dir
    (made first by ensure_index when needed: unpacked from the pack, or the sample when there is no pack)."""
    if index_is_current(settings.index.index_dir, settings):
        return None
    if Startup(settings.demo.startup) is Startup.UNPACK and usable_pack(settings):
        return None
    try:
        return pack_sources(settings.index.pack, read_pack(settings.index.pack)) if settings.index.pack else None
    except IndexLoadError:
        return None


def sample_settings(settings: Settings) -> Settings:
    """The settings that serve the sample's own index while the catalog builds (never unpacked from the pack)."""
    return settings.with_overrides(index_dir=settings.index.sample_index_dir, pack="")


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


class BuildJob:
    """One index build on a background thread, with its progress for the page.

    `run(on_progress)` builds and swaps the index in, and returns a one-line message (rag.ui.Demo.update_index
    does both and never raises for bad input); on_progress receives (passages embedded, total).
    """

    def __init__(self, run: Callable[[Progress], str], what: str = "the full catalog index") -> None:
        self._run, self.what = run, what
        self.done = self.total = 0
        self._first: tuple[float, int] | None = None  # (time, passages done) at the first progress report
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.message = ""
        self._thread = threading.Thread(target=self._work, name="index-build", daemon=True)

    def start(self) -> BuildJob:
        self.started_at = time.monotonic()
        self._thread.start()
        return self

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self._first is None:
            self._first = (time.monotonic(), done)

    def _work(self) -> None:
        try:
            self.message = self._run(self._progress)
        except Exception as exc:  # a bug, not bad input: say so on the page, keep serving the sample
            self.message = f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        release_memory()
        self.finished_at = time.monotonic()


    @property
    def running(self) -> bool:
        return self.started_at is not None and self.finished_at is None

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def status_markdown(self) -> str:
        """One line for the page: what is happening, how far, how long is left (or how it ended)."""
        if self.started_at is None:
            return ""
        if not self.running:
            return f"Background build of {self.what} finished after {_minutes(self.finished_at - self.started_at)}: " \
                   f"{self.message}"
        elapsed = time.monotonic() - self.started_at
        if not self.total:
            step = "reading the catalogs and making passages"
        elif self.done < self.total:
            since, first = self._first or (self.started_at, 0)
            rate = (self.done - first) / max(time.monotonic() - since, 1e-6) if self.done > first else 0.0
            left = (self.total - self.done) / rate if rate else elapsed / max(self.done, 1) * self.total
            step = (f"{self.done:,} / {self.total:,} passages embedded ({self.done / self.total:.0%}), "
                    f"about {_minutes(left)} left")
        else:
            step = "all passages embedded; indexing and writing"
        return (f"**Building {self.what} in the background** ({_minutes(elapsed)} so far): {step}. "
                f"Until it is live, answers come from the sample catalog.")
