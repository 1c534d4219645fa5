"""The CTranslate2 runtime: rag.generate.Generator's interface, decoding run by CTranslate2 on CPU (int8 weights).

Everything above the decoding loop is the torch Generator's own: prompt encoding with registered prefixes, option
checking and defaults, length-sorted batches, stop strings cut by `finish`, stream hold-back. What differs:
- decoding runs in CTranslate2 (`generate_batch`, `generate_tokens`) on the model converted once into the cache
  (rag.runtimes.convert);
- the prefix cache is CTranslate2's static prompt: the registered prefix's state is computed once and reused;
- stop strings stop a row from CTranslate2's per-token callback, checked on the decoded text as in torch;
- `suppress_first` (the abstention retry) takes the first token from that step's logits without the suppressed
  ids (greedy, or sampled with the same temperature/top-k/top-p), then decodes the rest from it;
- a sampled call with a seed decodes on torch: CTranslate2 cannot reseed its worker thread per call.

The torch model stays loaded (`.model`): training, the levers benchmark and the plot adapter's view use it.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import torch

from rag.generate import Generator, stops_in
from rag.runtimes import require
from rag.runtimes.convert import ct2_model_dir

_INCOMPLETE = "\ufffd"  # what decode() shows for a character whose bytes are not all generated yet


class CTranslate2Generator(Generator):
    """Generator on CTranslate2: `generate`, `stream` and `add_prefix` as in rag.generate.Generator.

    Args:
        model, tokenizer, settings: as for Generator; the model is converted (or found in
            settings.models.cache_dir) with settings.decoding.ct2_compute_type weights.
    """

    runtime = "ctranslate2"

    def __init__(self, model, tokenizer, settings) -> None:
        super().__init__(model, tokenizer, settings)
        self._ct2 = require("ctranslate2", "the ctranslate2 generator runtime")
        compute = settings.decoding.ct2_compute_type
        self.model_dir = ct2_model_dir(model, tokenizer, settings.models.cache_dir, compute, settings.run.progress)
        cores = settings.run.num_threads or torch.get_num_threads() or os.cpu_count() or 1
        threads = min(settings.decoding.ct2_threads or cores, cores)
        # one worker (a second replica measured +50 MB of RSS serving the catalog): concurrent requests meet in the
        # micro-batcher instead, and the cores left serve retrieval, encoding and the web server
        torch_threads = torch.get_num_threads()
        self.engine = self._ct2.Generator(str(self.model_dir), device="cpu", compute_type=compute, inter_threads=1,
                                          intra_threads=threads)
        torch.set_num_threads(torch_threads)  # CTranslate2 sets its OpenMP thread count on the calling thread too

    # ------------------------------------------------------------ options

    def _config(self, overrides: dict):
        config, stop = super()._config(overrides)
        # CTranslate2 seeds each worker thread's generator once, so a per-call seed cannot be honoured there: a seeded
        # sampled call decodes on torch (seeded by the base class), reproducible as before.
        config.torch_only = bool(config.do_sample and overrides.get("seed") is not None)
        return config, stop

    def _options(self, config, max_new: int) -> dict:
        """CTranslate2 decoding options from the torch GenerationConfig the base class built."""
        options = dict(max_length=max_new, end_token=list(self.eos_ids), include_prompt_in_result=False,
                       repetition_penalty=float(config.repetition_penalty or 1.0),
                       no_repeat_ngram_size=int(config.no_repeat_ngram_size or 0))
        if config.do_sample:
            options.update(sampling_topk=int(config.top_k or 0), sampling_topp=float(config.top_p or 1.0),
                           sampling_temperature=float(config.temperature))
        else:
            options["sampling_topk"] = 1
        return options

    def _tokens(self, ids: list[int]) -> list[str]:
        return self.tokenizer.convert_ids_to_tokens(ids)

    def _split(self, rows: list[list[int]], prefix: str | None) -> tuple[list[str] | None, list[list[int]]]:
        """(static prompt tokens or None, each row's rest): the shared prefix becomes CTranslate2's static prompt,
        whose decoder state it computes once and caches."""
        n = len(self._prefixes[prefix][0]) if prefix is not None and self.settings.decoding.prefix_cache else 0
        if n == 0 or any(len(r) <= n for r in rows):  # a row that is only the prefix has nothing to start from
            return None, rows
        return self._tokens(rows[0][:n]), [r[n:] for r in rows]

    def _first_tokens(self, static, starts: list[list[int]], config) -> list[int]:
        """Each row's first token from that step's logits, the suppressed ids excluded (HF begin_suppress_tokens)."""
        results = self.engine.generate_batch([self._tokens(s) for s in starts], static_prompt=static, max_length=1,
                                             sampling_topk=1, include_prompt_in_result=False, return_logits_vocab=True)
        # a row longer than the batch's shortest prompt also returns the logits of its forced prompt steps: the
        # chosen step is the last one
        vocab = int(self.model.config.vocab_size)
        logits = torch.stack([torch.from_numpy(np.asarray(r.logits[0])).reshape(-1, vocab)[-1].float()
                              for r in results])
        logits[:, [i for i in config.begin_suppress_tokens if i < logits.shape[1]]] = float("-inf")
        if not config.do_sample:
            return logits.argmax(-1).tolist()
        logits = logits / max(float(config.temperature), 1e-5)
        if config.top_k:
            kth = logits.topk(min(int(config.top_k), logits.shape[1]), dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = logits.softmax(-1)
        if config.top_p is not None and config.top_p < 1.0:
            ordered, order = probs.sort(descending=True)
            drop = ordered.cumsum(-1) - ordered > float(config.top_p)  # keep the smallest head reaching top_p
            probs = probs.scatter(1, order, ordered.masked_fill(drop, 0.0))
        return torch.multinomial(probs, 1).flatten().tolist()

    def _begin(self, rows: list[list[int]], prefix: str | None, config) -> tuple[list[str] | None, list[list[int]],
                                                                                 list[list[int]]]:
        """(static prompt, start ids, forced first ids per row): with suppress_first, the first token is chosen
        here and decoding starts after it."""
        static, starts = self._split(rows, prefix)
        if not config.begin_suppress_tokens:
            return static, starts, [[] for _ in rows]
        first = self._first_tokens(static, starts, config)
        return static, [s + [f] for s, f in zip(starts, first)], [[f] for f in first]

    # ------------------------------------------------------------ decoding (the torch class's hooks)

    def _run(self, rows: list[list[int]], prefix: str | None, config, stop: tuple[str, ...], streamer=None,
             cancel=None) -> list[list[int]]:
        if getattr(config, "torch_only", False):
            return super()._run(rows, prefix, config, stop, streamer, cancel)
        static, starts, forced = self._begin(rows, prefix, config)
        max_new = config.max_new_tokens - len(forced[0])
        if max_new < 1 or (forced[0] and forced[0][0] in self.eos_ids):
            return forced
        generated, stopped = [list(f) for f in forced], stop_rule(self.tokenizer, stop)

        def on_token(step) -> bool:  # True stops this row: its text (leading whitespace ignored) holds a stop string
            ids = generated[step.batch_id]
            ids.append(step.token_id)
            return stopped(ids)

        results = self.engine.generate_batch([self._tokens(s) for s in starts], static_prompt=static,
                                             callback=on_token if stop else None, **self._options(config, max_new))
        return [f + r.sequences_ids[0] for f, r in zip(forced, results)]


    def _text_chunks(self, ids: list[int], prefix: str | None, config, stop: tuple[str, ...]) -> Iterator[str]:
        """Decoded text deltas as CTranslate2 yields tokens; closing this iterator stops the decoding."""
        if getattr(config, "torch_only", False):
            yield from super()._text_chunks(ids, prefix, config, stop)
            return
        static, starts, forced = self._begin([ids], prefix, config)
        generated, shown = list(forced[0]), ""
        max_new = config.max_new_tokens - len(generated)
        done = max_new < 1 or (generated and generated[0] in self.eos_ids)
        steps = iter(()) if done else self.engine.generate_tokens(self._tokens(starts[0]), static_prompt=static,
                                                                  **_stream_options(self._options(config, max_new)))
        try:
            first = self.tokenizer.decode(generated, skip_special_tokens=True)
            if first and not first.endswith(_INCOMPLETE):  # the forced first token shows at once
                yield first
                shown = first
            for step in steps:
                generated.append(step.token_id)
                text = self.tokenizer.decode(generated, skip_special_tokens=True)
                if text.endswith(_INCOMPLETE) or len(text) <= len(shown):
                    continue
                yield text[len(shown):]
                shown = text
        finally:
            close = getattr(steps, "close", None)
            if close is not None:
                close()  # CTranslate2 stops at its next step
        text = self.tokenizer.decode(generated, skip_special_tokens=True)
        if len(text) > len(shown):
            yield text[len(shown):]


def stop_rule(tokenizer, stop: tuple[str, ...]):
    """ids → whether the decoded text, leading whitespace ignored, holds a stop string (the torch class's rule).

    CTranslate2 calls a callback on its worker thread and may release it there, so a callback must not hold the
    generator: if it held the last reference, the engine would be destroyed on its own worker thread, which then
    joins itself (std::system_error "Resource deadlock avoided", abort). This closure holds the tokenizer only.
    """
    def stopped(ids: list[int]) -> bool:
        return bool(stop) and stops_in(tokenizer.decode(ids, skip_special_tokens=True).lstrip(), stop)
    return stopped


def _stream_options(options: dict) -> dict:
    """generate_tokens takes generate_batch's options except include_prompt_in_result (never included there)."""
    return {k: v for k, v in options.items() if k != "include_prompt_in_result"}
