"""Cross-request micro-batching for a runtime generator: concurrent calls become one batched engine call.

Requests that arrive within `window_s` of the first one and share a key (the same prompt prefix and decoding
options) are decoded together; each caller gets its own rows back, and a stream gets its own tokens as they
arrive. Leader/follower: the first request of a key waits the window, takes the requests queued under that key
(up to `max_rows` rows) and runs them as one batch. The key stays led until that batch has left the engine, so
requests arriving meanwhile queue up and run as the next batch (its first request leads it, without waiting
again) instead of each starting an engine call of its own. A batch of streams is started asynchronously by
`run`, which returns an Event set when the engine is done with it; its leader, like every stream, goes on to
consume its own tokens.
"""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field


@dataclass
class Request:
    """One caller's rows. A plain request gets `result` (generated ids per row) or `error`; a stream request gets
    (row, token id) pairs on `tokens`, then None once its rows are finished (`error` set first on a failure)."""

    rows: list[list[int]]
    stream: bool = False
    context: object = None  # what the batch function needs to decode (the same for every request of a key)
    result: list[list[int]] | None = None
    error: BaseException | None = None
    tokens: queue.Queue = field(default_factory=queue.Queue)
    cancelled: bool = False  # a stream whose consumer went away: its rows stop at their next token
    started: threading.Event = field(default_factory=threading.Event)  # its batch runs (or has run)
    _wake: threading.Event = field(default_factory=threading.Event)
    _lead: bool = False


class MicroBatcher:
    """Groups concurrent requests by key.

    Args:
        window_s: how long the first request of a key waits for others (issue 17: about 10-20 ms).
        max_rows: rows per batch at most; requests beyond it go to the next batch.
        run: (requests) → None or a threading.Event, on the leader's thread. For plain requests it sets each
            result (None: done); for streams it starts decoding and returns an Event set once the engine is done with
            the batch (it must close every tokens queue with None when that request's rows end).
    """

    def __init__(self, window_s: float, max_rows: int, run: Callable[[list[Request]], None]) -> None:
        self.window_s, self.max_rows, self.run = window_s, max(1, max_rows), run
        self._lock = threading.Lock()
        self._pending: dict[Hashable, list[Request]] = {}
        self._led: set[Hashable] = set()  # keys with a leader waiting or running
        self.batches: list[int] = []  # rows per batch run (tests, benchmarks)

    def submit(self, key: Hashable, request: Request) -> Request:
        """Queue the request and return it once it is answered (a stream: once its batch has started)."""
        with self._lock:
            self._pending.setdefault(key, []).append(request)
            leading = key not in self._led
            self._led.add(key)
        if leading:
            time.sleep(self.window_s)
            self._run_next(key)
        while not request.started.is_set():
            request._wake.wait()
            request._wake.clear()
            if request._lead and not request.started.is_set():
                request._lead = False
                self._run_next(key)
        return request

    def _run_next(self, key: Hashable) -> None:
        """Run the next batch of `key`; once the engine is done with it, hand the lead on (see _hand_on)."""
        with self._lock:
            waiting = self._pending.get(key, [])
            batch, rows = [], 0
            while waiting and (not batch or rows + len(waiting[0].rows) <= self.max_rows):
                rows += len(waiting[0].rows)
                batch.append(waiting.pop(0))
        self.batches.append(rows)
        finished = None
        try:
            finished = self.run(batch)
        except BaseException as exc:  # every caller hears of it, not just the leader
            for r in batch:
                r.error = r.error or exc
                r.tokens.put(None)
        for r in batch:
            r.started.set()
            r._wake.set()
        if isinstance(finished, threading.Event):  # a batch of streams still decoding: hand on when it is done
            threading.Thread(target=lambda: (finished.wait(), self._hand_on(key)), daemon=True).start()
        else:
            self._hand_on(key)

    def _hand_on(self, key: Hashable) -> None:
        """The first request queued under `key` leads the next batch at once; with none, the key is free."""
        with self._lock:
            waiting = self._pending.get(key, [])
            successor = waiting[0] if waiting else None
            if successor is None:
                self._pending.pop(key, None)
                self._led.discard(key)
        if successor is not None:
            successor._lead = True
            successor._wake.set()
