"""Plot continuation (`plot`, `plot_stream`): an opening continued by the plot model, with no retrieval and no
answer items. A mixin of rag.pipeline.Pipeline, which supplies `settings` and `generator` (the answer model, used
when no plot model is set)."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from core.errors import InputError
from rag.generate import Generator
from rag.prompt import render_plot_prompt


class PlotContinuation:
    """Continues plots on a model of their own, loaded on first use (`use_plot_model`)."""

    _plot_loader: Callable | None = None  # () → (model, tokenizer, spec) or None; see use_plot_model
    _plot_generator: Generator | None = None  # what plots run on once loaded; None: the answer generator
    plot_generator_name: str | None = None  # the plot model's name once loaded; None: the answer generator's

    def use_plot_model(self, loader: Callable) -> None:
        """Continue plots with the model `loader()` returns, loaded on the first plot.

        Args:
            loader: () → (model, tokenizer, spec), or None for the answer generator; e.g. core.models.
                load_plot_generator, which makes the plot adapter a weight-sharing view of the answer model.
        """
        self._plot_loader, self._plot_generator, self.plot_generator_name = loader, None, None
        self._plot_lock = threading.Lock()

    def plot_model(self) -> Generator:
        """The Generator plots run on (loading it on the first call); the answer generator without a plot model."""
        if self._plot_loader is not None:
            with self._plot_lock:
                if self._plot_loader is not None:  # another request may have loaded it meanwhile
                    loaded = self._plot_loader()
                    if loaded is not None:
                        model, tokenizer, spec = loaded
                        self._plot_generator = Generator(model, tokenizer, self.settings)
                        self.plot_generator_name = spec.name
                    self._plot_loader = None
        return self._plot_generator or self.generator

    def _plot_request(self, prompt: str, genre: str | None, gen_overrides: dict) -> tuple[Generator, str, str, dict]:
        """(plot generator, opening, rendered prompt, generation options): the plot settings, overridden by non-None
        options."""
        opening = " ".join((prompt or "").split())
        if not opening:
            raise InputError("the plot prompt is empty")
        s = self.settings
        options = dict(max_new_tokens=s.plot.plot_max_new_tokens, temperature=s.plot.plot_temperature,
                       top_p=s.plot.plot_top_p, repetition_penalty=s.plot.plot_repetition_penalty,
                       no_repeat_ngram_size=s.plot.plot_no_repeat_ngram_size, stop=())
        options.update({k: v for k, v in gen_overrides.items() if v is not None})
        generator = self.plot_model()
        return generator, opening, render_plot_prompt(generator.tokenizer, opening, genre, s), options

    def plot(self, prompt: str, genre: str | None = None, **gen_overrides) -> str:
        """Continue a movie plot (no retrieval, no stop string: it runs to max_new_tokens or eos).

        Args:
            prompt: the plot opening (whitespace collapsed).
            genre: condition the continuation on a genre, e.g. "Horror".
            **gen_overrides: generation options; unset ones come from `settings.plot`.

        Returns:
            The opening followed by the plot model's continuation (ValueError when the opening is empty).
        """
        generator, opening, rendered, options = self._plot_request(prompt, genre, gen_overrides)
        return _join_plot(opening, generator.generate([rendered], **options)[0])

    def plot_stream(self, prompt: str, genre: str | None = None, **gen_overrides) -> Iterator[str]:
        """`plot`, streamed. Arguments as in `plot`.

        Yields:
            The plot so far (opening + continuation) as tokens arrive; the last item equals `plot`'s result.
        """
        generator, opening, rendered, options = self._plot_request(prompt, genre, gen_overrides)
        continuation = ""
        for delta in generator.stream(rendered, **options):
            continuation += delta
            yield _join_plot(opening, continuation)


def _join_plot(opening: str, continuation: str) -> str:
    """The opening and its continuation, with a space between unless the continuation starts with punctuation."""
    space = "" if not continuation or continuation[0] in " ,.;:!?'" else " "
    return opening + space + continuation
