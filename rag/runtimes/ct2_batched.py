"""The CTranslate2 generator with cross-request micro-batching (settings.decoding.batch_window_ms > 0).

Concurrent `generate` calls, and concurrent `stream` calls, that share a prompt prefix and decoding options within
the window are decoded as one batch (rag.runtimes.batcher); every stream still gets its own tokens as they come.
Calls that choose their first token (`suppress_first`, the abstention retry) and seeded sampled calls (decoded on
torch) run alone, as without batching.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator

from rag.runtimes.batcher import MicroBatcher, Request
from rag.runtimes.ct2 import _INCOMPLETE, CTranslate2Generator, stop_rule


class BatchedCTranslate2Generator(CTranslate2Generator):
    """CTranslate2Generator whose concurrent calls are micro-batched (same interface)."""

    def __init__(self, model, tokenizer, settings) -> None:
        super().__init__(model, tokenizer, settings)
        window = settings.decoding.batch_window_ms / 1000.0
        self.batcher = MicroBatcher(window, max(1, settings.decoding.batch_size), self._run_batch)

    def _key(self, prefix: str | None, config, stop: tuple[str, ...], stream: bool) -> tuple:
        return (prefix, config.max_new_tokens, config.do_sample, config.temperature, config.top_p, config.top_k,
                config.repetition_penalty, config.no_repeat_ngram_size, stop, stream)

    def _alone(self, config) -> bool:
        return bool(getattr(config, "torch_only", False) or config.begin_suppress_tokens)

    def _run(self, rows: list[list[int]], prefix: str | None, config, stop: tuple[str, ...], streamer=None,
             cancel=None) -> list[list[int]]:
        if self._alone(config):
            return super()._run(rows, prefix, config, stop, streamer, cancel)
        request = Request(rows, context=(prefix, config, stop))
        self.batcher.submit(self._key(prefix, config, stop, False), request)
        if request.error is not None:
            raise request.error
        return request.result

    def _run_batch(self, requests: list[Request]) -> threading.Event | None:
        """One engine call for every request's rows (plain: results split back; streams: started asynchronously,
        with the Event set once the engine is done with them)."""
        prefix, config, stop = requests[0].context
        rows = [row for r in requests for row in r.rows]
        if not requests[0].stream:
            out = super()._run(rows, prefix, config, stop)
            at = 0
            for r in requests:
                r.result, at = out[at:at + len(r.rows)], at + len(r.rows)
            return
        owners = [r for r in requests for _ in r.rows]  # one row per stream request
        generated: list[list[int]] = [[] for _ in rows]
        static, starts, _ = self._begin(rows, prefix, config)
        stopped = stop_rule(self.tokenizer, stop)

        def on_token(step) -> bool:  # on a CTranslate2 worker thread: holds no reference to self (see stop_rule)
            owner, ids = owners[step.batch_id], generated[step.batch_id]
            ids.append(step.token_id)
            owner.tokens.put(step.token_id)
            end = owner.cancelled or stopped(ids)
            if end or step.is_last:
                owner.tokens.put(None)
            return end

        options = self._options(config, config.max_new_tokens)
        pending = self.engine.generate_batch([self._tokens(s) for s in starts], static_prompt=static,
                                             callback=on_token, asynchronous=True, **options)

        def close_all() -> None:  # rows that ended without a last step (eos at once, an error) end here
            try:
                for result in pending:
                    result.result()
            except BaseException as exc:
                for r in requests:
                    r.error = r.error or exc
            for r in requests:
                r.tokens.put(None)
            finished.set()

        finished = threading.Event()
        threading.Thread(target=close_all, daemon=True).start()
        return finished

    def _text_chunks(self, ids: list[int], prefix: str | None, config, stop: tuple[str, ...]) -> Iterator[str]:
        if self._alone(config):
            yield from super()._text_chunks(ids, prefix, config, stop)
            return
        request = Request([ids], stream=True, context=(prefix, config, stop))
        self.batcher.submit(self._key(prefix, config, stop, True), request)
        generated, shown = [], ""
        try:
            while (token := request.tokens.get()) is not None:
                generated.append(token)
                text = self.tokenizer.decode(generated, skip_special_tokens=True)
                if text.endswith(_INCOMPLETE) or len(text) <= len(shown):
                    continue
                yield text[len(shown):]
                shown = text
        finally:
            request.cancelled = True  # the engine stops this row at its next token
        if request.error is not None:
            raise request.error
        text = self.tokenizer.decode(generated, skip_special_tokens=True)
        if len(text) > len(shown):
            yield text[len(shown):]

