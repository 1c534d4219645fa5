"""Generation over any Hugging Face causal LM: greedy or sampling, stop strings/eos, batches, streaming.

Stopping is per call: `stop=("\n",)` (the default: one-line answers) or `stop=()` (plot continuation, longer
answers); leading whitespace never stops a row.

Speed: torch.inference_mode; answers stop at the first stop string (a StoppingCriteria) or eos; the fixed
prompt prefix of a mode (system prompt + demonstrations) is prefilled once and its KV cache is copied per
question (batches too), so only the context and question are prefilled; batches are sorted by length.

Runtime: `Generator(...)` returns the class settings.decoding.generator_runtime selects (rag.runtimes): this
eager torch class (training path and fallback) or a subclass that decodes on CTranslate2 (int8).
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Iterator

import torch
from transformers import (
    DynamicCache,
    GenerationConfig,
    StoppingCriteria,
    StoppingCriteriaList,
    StopStringCriteria,
    TextIteratorStreamer,
)

from core.config import Settings
from core.errors import ConfigError
from rag.prompt import is_chat_model

LINE = ("\n",)  # the default stop: one-line answers
# stop: stop strings (() = none); suppress_first: token ids the answer may not start with; no_repeat_ngram_size: n > 0
# forbids writing any n-gram of tokens twice (plots)
_OVERRIDES = {"max_new_tokens", "temperature", "top_p", "top_k", "stop", "repetition_penalty", "seed", "suppress_first",
              "no_repeat_ngram_size"}


def optimize_model(model, settings: Settings):
    """Apply settings.decoding.generator_dtype and settings.decoding.quantize_int8 (in place; idempotent).
    Returns the model, in eval mode."""
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}.get(settings.decoding.generator_dtype)
    if dtype is None:
        raise ConfigError(f"generator_dtype must be 'float32' or 'bfloat16', not {settings.decoding.generator_dtype!r}")
    if next(model.parameters()).dtype != dtype:
        model.to(dtype)
    if settings.decoding.quantize_int8 and not getattr(model, "_movie_rag_int8", False):
        from torch.ao.quantization import quantize_dynamic  # deferred: only with quantize_int8

        body = model.get_decoder()  # the output head stays float: int8 logits hurt answers badly
        quantize_dynamic(body, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        model._movie_rag_int8 = True
    return model.eval()


class _StopAfterText(StoppingCriteria):
    """Per-row stop once the generated text, leading whitespace ignored, contains a stop string.

    StopStringCriteria finds the rows whose newest tokens complete a stop string (tensor ops, no decoding), but
    it cannot ignore a leading newline, which models often write first: so only its hits are decoded and checked.
    """

    def __init__(self, matcher: StopStringCriteria, tokenizer, start: int) -> None:
        self.matcher, self.tokenizer, self.start = matcher, tokenizer, start

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        done = self.matcher(input_ids, scores)
        for row in done.nonzero().flatten().tolist():  # rare: a row's newest token completes a stop string
            text = self.tokenizer.decode(input_ids[row, self.start:], skip_special_tokens=True)
            done[row] = stops_in(text.lstrip(), self.matcher.stop_strings)
        return done


class _Cancel(StoppingCriteria):
    """Stops every row once the event is set (a stream consumer went away)."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.LongTensor, scores, **kwargs) -> torch.BoolTensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


def stops_in(text: str, stop: tuple[str, ...]) -> bool:
    return any(s in text for s in stop)


def finish(text: str, stop: tuple[str, ...] = LINE) -> str:
    """Generated text → answer: leading whitespace dropped, cut at the first stop string, trailing space dropped."""
    text = text.lstrip()
    cuts = [at for at in (text.find(s) for s in stop) if at >= 0]
    return (text[:min(cuts)] if cuts else text).rstrip()


def _held_back(text: str, stop: tuple[str, ...]) -> str:
    """text without a tail that may be the start of a stop string (a stream shows it once it is known)."""
    held = max((n for s in stop for n in range(1, min(len(s), len(text) + 1)) if text.endswith(s[:n])), default=0)
    return text[:len(text) - held]


def _stop_strings(value) -> tuple[str, ...]:
    stop = LINE if value is None else (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(s, str) and s for s in stop):
        raise ConfigError(f"stop must be non-empty strings, not {value!r}")
    return stop


class Generator:
    """Batched and streamed generation with per-call stop strings and a prefilled KV cache per prompt prefix.

    Args:
        model: a Hugging Face causal LM (dtype and int8 quantization applied from settings.decoding, in place).
        tokenizer: its tokenizer (chat models get no extra special tokens: the chat template has them).
        settings: `settings.decoding`: defaults of every generation option, batch size, prefix cache.
    """

    runtime = "torch"  # the engine that decodes; subclasses in rag.runtimes run another one

    def __new__(cls, model=None, tokenizer=None, settings: Settings | None = None):
        """Generator(model, tokenizer, settings) is served by settings.decoding.generator_runtime: this torch class,
        or its subclass on a faster engine (rag.runtimes), with the same interface."""
        if cls is Generator and settings is not None:
            from rag.runtimes import generator_class  # deferred: rag.runtimes builds on this module

            cls = generator_class(model, settings)
        return super().__new__(cls)

    def __init__(self, model, tokenizer, settings: Settings) -> None:
        self.model = optimize_model(model, settings)
        self.tokenizer, self.settings = tokenizer, settings
        self.add_special = not is_chat_model(tokenizer)
        eos = {tokenizer.eos_token_id}
        config_eos = getattr(model.generation_config, "eos_token_id", None)
        eos |= set(config_eos) if isinstance(config_eos, (list, tuple)) else {config_eos}
        for name in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>"):
            token_id = tokenizer.convert_tokens_to_ids(name) if name in tokenizer.get_vocab() else None
            eos.add(token_id)
        self.eos_ids = sorted(i for i in eos if i is not None)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_ids[0]
        self._prefixes: dict[str, tuple[list[int], DynamicCache | None]] = {}
        self._lock = threading.Lock()
        self._matchers: dict[tuple[str, ...], StopStringCriteria] = {}  # built once: ~0.2 s over a 49k vocab
        self._matcher(LINE)

    # ------------------------------------------------------------ prompts → token ids

    def add_prefix(self, text: str) -> None:
        """Register a fixed prompt start; prompts that begin with it reuse its prefilled KV cache."""
        if text and text not in self._prefixes:
            ids = self.tokenizer(text, add_special_tokens=self.add_special)["input_ids"]
            self._prefixes[text] = (ids, None)

    def encode(self, prompt: str) -> tuple[list[int], str | None]:
        """Token ids of a prompt (a registered prefix is tokenized on its own) and the prefix used, if any."""
        prefix = max((p for p in self._prefixes if prompt.startswith(p)), key=len, default=None)
        if prefix is None:
            return self.tokenizer(prompt, add_special_tokens=self.add_special)["input_ids"], None
        rest = self.tokenizer(prompt[len(prefix):], add_special_tokens=False)["input_ids"]
        return self._prefixes[prefix][0] + rest, prefix

    def _prefix_cache(self, prefix: str) -> DynamicCache | None:
        ids, cache = self._prefixes[prefix]
        if cache is None:
            with self._lock, torch.inference_mode():
                ids, cache = self._prefixes[prefix]
                if cache is None:
                    cache = DynamicCache(config=self.model.config)
                    self.model(input_ids=torch.tensor([ids]), past_key_values=cache, use_cache=True)
                    self._prefixes[prefix] = (ids, cache)
        return copy.deepcopy(cache)

    # ------------------------------------------------------------ generation

    def _matcher(self, stop: tuple[str, ...]) -> StopStringCriteria:
        if stop not in self._matchers:
            self._matchers[stop] = StopStringCriteria(self.tokenizer, list(stop))
        return self._matchers[stop]

    def _config(self, overrides: dict) -> tuple[GenerationConfig, tuple[str, ...]]:
        unknown = set(overrides) - _OVERRIDES
        if unknown:
            raise TypeError(f"unknown generation options: {sorted(unknown)}")
        s = self.settings
        get = lambda name: overrides[name] if overrides.get(name) is not None else getattr(s.decoding, name)
        max_new = int(get("max_new_tokens"))
        if max_new < 1:
            raise ConfigError("max_new_tokens must be at least 1")
        temperature = float(get("temperature"))
        args = dict(max_new_tokens=max_new, eos_token_id=self.eos_ids, pad_token_id=self.pad_id, use_cache=True)
        if temperature > 0:
            args.update(do_sample=True, temperature=temperature, top_p=float(get("top_p")), top_k=int(get("top_k")))
        else:
            args.update(do_sample=False)
        penalty = float(get("repetition_penalty"))
        if penalty != 1.0:
            args["repetition_penalty"] = penalty
        if overrides.get("no_repeat_ngram_size"):
            args["no_repeat_ngram_size"] = int(overrides["no_repeat_ngram_size"])
        if overrides.get("suppress_first"):
            args["begin_suppress_tokens"] = sorted(set(overrides["suppress_first"]))
        if overrides.get("seed") is not None:
            torch.manual_seed(int(overrides["seed"]))
        return GenerationConfig(**args), _stop_strings(overrides.get("stop"))

    def _run(self, rows: list[list[int]], prefix: str | None, config: GenerationConfig, stop: tuple[str, ...],
             streamer=None, cancel: threading.Event | None = None) -> list[list[int]]:
        # Rows share `prefix` (its KV cache is reused): padding goes between the prefix and the rest, which
        # generate() handles, as positions come from the attention mask. Otherwise plain left padding.
        cached = prefix is not None and self.settings.decoding.prefix_cache
        n = len(self._prefixes[prefix][0]) if cached else 0
        width = max(len(r) for r in rows)
        input_ids = torch.tensor([r[:n] + [self.pad_id] * (width - len(r)) + r[n:] for r in rows])
        attention = torch.tensor([[1] * n + [0] * (width - len(r)) + [1] * (len(r) - n) for r in rows])
        criteria = StoppingCriteriaList()
        if stop:
            criteria.append(_StopAfterText(self._matcher(stop), self.tokenizer, width))
        if cancel is not None:
            criteria.append(_Cancel(cancel))
        kwargs = {}
        if cached:
            cache = self._prefix_cache(prefix)
            if len(rows) > 1:
                cache.batch_repeat_interleave(len(rows))
            kwargs["past_key_values"] = cache
        with torch.inference_mode():
            out = self.model.generate(input_ids=input_ids, attention_mask=attention, generation_config=config,
                                      stopping_criteria=criteria, streamer=streamer, **kwargs)
        return [row[width:].tolist() for row in out]

    def generate(self, prompts: list[str], **gen_overrides) -> list[str]:
        """Generate for every prompt: batches of settings.decoding.batch_size, sorted by length, left-padded.

        Args:
            prompts: rendered prompts (rag.prompt); those starting with a registered prefix reuse its KV cache.
            **gen_overrides: max_new_tokens, temperature (0 = greedy), top_p, top_k, repetition_penalty, seed,
                stop (strings; default a newline, () for none), suppress_first (token ids the text may not
                start with), no_repeat_ngram_size; unset ones take their settings.decoding default, where one exists.

        Returns:
            The texts, in prompt order: leading whitespace dropped, cut before the first stop string.

        Raises:
            TypeError: an unknown option.
            ValueError: max_new_tokens < 1, or stop is not non-empty strings (ConfigError).
        """
        config, stop = self._config(gen_overrides)
        encoded = [self.encode(p) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: len(encoded[i][0]))
        texts: list[str] = [""] * len(prompts)
        size = max(1, self.settings.decoding.batch_size)
        for start in range(0, len(order), size):
            batch = order[start:start + size]
            prefixes = {encoded[i][1] for i in batch}
            prefix = prefixes.pop() if len(prefixes) == 1 else None
            outputs = self._run([encoded[i][0] for i in batch], prefix, config, stop)
            for i, ids in zip(batch, outputs):
                texts[i] = finish(self.tokenizer.decode(ids, skip_special_tokens=True), stop)
        return texts

    def stream(self, prompt: str, **gen_overrides) -> Iterator[str]:
        """Generate for one prompt, streamed (a worker thread runs generate(); leaving early cancels it).

        Args:
            prompt, **gen_overrides: as in `generate`.

        Yields:
            Text deltas as tokens arrive; their concatenation equals generate([prompt])[0] (a tail that may
            start a stop string is held back until it is known not to).
        """
        config, stop = self._config(gen_overrides)
        ids, prefix = self.encode(prompt)
        chunks = self._text_chunks(ids, prefix, config, stop)
        raw, emitted = "", ""
        try:
            for chunk in chunks:
                raw += chunk
                text = _held_back(finish(raw, stop), stop)
                if len(text) > len(emitted) and text.startswith(emitted):
                    yield text[len(emitted):]
                    emitted = text
                if stops_in(raw.lstrip(), stop):
                    break
        finally:
            chunks.close()
        text = finish(raw, stop)
        if len(text) > len(emitted) and text.startswith(emitted):
            yield text[len(emitted):]

    def _text_chunks(self, ids: list[int], prefix: str | None, config: GenerationConfig,
                     stop: tuple[str, ...]) -> Iterator[str]:
        """Decoded text as tokens arrive (generate() on a worker thread); closing the iterator cancels it."""
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        cancel, errors = threading.Event(), []

        def work() -> None:
            try:
                self._run([ids], prefix, config, stop, streamer=streamer, cancel=cancel)
            except BaseException as exc:
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            yield from streamer
        finally:
            cancel.set()
            thread.join()
        if errors:
            raise errors[0]
