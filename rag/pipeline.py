"""ask(question, mode) → Answer: retrieval, prompt, generation, abstention, answer items, spans and timings.

Modes: "rag" (retrieve, then answer from the context) and "plain" (the same model without context: the
baseline). One batched flow answers: `ask(q)` is `ask_batch([q])[0]`; `ask_stream` reuses its building blocks
(retrieve → prepare → generate, retried after an abstention → answer). Plot continuation (`plot`,
`plot_stream`, from the rag.plots mixin) is a separate operation: it continues an opening, with no retrieval and no
answer items.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from tqdm.auto import tqdm

from core.config import Settings
from core.errors import InputError
from core.models import load_embedder, load_generator, load_plot_generator
from core.records import normalize
from index.catalog import Catalog
from index.default import ensure_index
from index.store import load_index
from rag.answer import Answer, Source, find_span, trained_prompt_settings
from rag.evidence import Evidence, PlannedRetrieval
from rag.generate import Generator
from rag.planner import load_planner
from rag.plots import PlotContinuation
from rag.prompt import (
    ABSTAIN_ANSWER,
    build_rag_prompt,
    is_abstention,
    prompt_prefix,
    render_plain_prompt,
    snap_to_context,
    split_answer,
    strip_special_tokens,
    truncate_tokens,
)
from rag.retrieve import Retrieval, Retriever

MODES = ("rag", "plain")


class Pipeline(PlotContinuation):
    """Answers questions over one index with one generator (`ask`, `ask_batch`, `ask_stream`); continues plots.

    Args:
        index: a MovieIndex (index.store.load_index), or None: plain mode and plots only.
        embedder: the SentenceTransformer the index was built with (None with no index).
        model, tokenizer: a causal LM and its tokenizer (core.models.load_generator).
        settings: every stage's settings, with the generator's trained prompt format (see load_pipeline).
        generator_name: shown in answers; default the model's name_or_path.
    """

    def __init__(self, index, embedder, model, tokenizer, settings: Settings,
                 generator_name: str | None = None, planner=None, catalog=None) -> None:
        self.settings = settings
        self.embedder, self.tokenizer = embedder, tokenizer
        self.generator = Generator(model, tokenizer, settings)
        self.generator_name = generator_name or getattr(model.config, "name_or_path", "") or type(model).__name__
        self._abstain_ids: list[int] | None = None  # first token(s) of the abstention, see _abstention_start
        self.planner = planner
        for mode in ("rag", "plain"):
            self.generator.add_prefix(prompt_prefix(tokenizer, settings, mode))
        self.swap_index(index, catalog)

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        """`load_pipeline(settings)`: the default index (built from the sample if absent) and the models."""
        return load_pipeline(settings)

    @property
    def model(self):
        return self.generator.model

    def swap_index(self, new_index, catalog=None) -> None:
        """Serve another index from now on (the app calls this after building or adding).

        Args:
            new_index: a MovieIndex built with the same embedder, or None (plain mode and plots only).
            catalog: the index's catalog store (index.catalog.Catalog) for exact plans; None: retrieval only.
        """
        self.index, self.catalog = new_index, catalog
        self.retriever = Retriever(new_index, self.embedder, self.settings) if new_index is not None else None
        self.evidence = Evidence(self.retriever, self.settings, self.planner, catalog) if self.retriever else None

    # ------------------------------------------------------------ building blocks

    def _check(self, question: str, mode: str) -> str:
        if mode not in MODES:
            raise InputError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        question = (question or "").strip()
        if not question:
            raise InputError("the question is empty")
        if mode == "rag" and self.retriever is None:
            raise InputError("no index is loaded; rag mode needs one")
        return question

    def _abstention_start(self) -> list[int]:
        """The token(s) an answer starts with when the generator writes the abstention."""
        if self._abstain_ids is None:
            variants = (ABSTAIN_ANSWER, " " + ABSTAIN_ANSWER)
            self._abstain_ids = sorted({self.tokenizer(v, add_special_tokens=False)["input_ids"][0] for v in variants})
        return self._abstain_ids

    def _retrieve(self, questions: list[str], mode: str, k: int | None, years: tuple | None,
                  genres: list[str] | None) -> list[Retrieval | None]:
        if mode != "rag":
            return [None] * len(questions)
        return self.evidence(questions, k=k, years=years, genres=genres)

    def _retry_options(self, gen_overrides: dict) -> dict:
        """Generation options of the second try: the abstention's first token is suppressed."""
        return {**gen_overrides, "suppress_first": self._abstention_start()}

    def _answer_again(self, text: str, retrieval: Retrieval | None) -> bool:
        """The generator abstained although the question linked a card (so the catalog covers it)."""
        return bool(self.settings.answer.answer_when_linked and retrieval is not None and retrieval.linked
                    and is_abstention(text))

    def _abstains(self, retrieval: Retrieval) -> bool:
        weak = retrieval.best_dense < self.settings.answer.abstain_threshold
        return not retrieval.hits or (weak and not retrieval.linked)

    def _context_hits(self, retrieval: Retrieval) -> list:
        """The hits put in the prompt: all k, or, when a title/person links, the linked cards first and at
        most settings.prompt.linked_context passages (a linked card holds the facts; more passages only distract)."""
        if not retrieval.linked or self.settings.prompt.linked_context <= 0:
            return retrieval.hits
        linked = [h for h in retrieval.hits if h.stage.is_link]
        others = [h for h in retrieval.hits if not h.stage.is_link]
        return (linked + others)[: max(len(linked), self.settings.prompt.linked_context)]

    def _prepare(self, question: str, mode: str, retrieval: Retrieval | None) -> tuple[str | None, list[Source]]:
        """(prompt or None when abstaining, sources)."""
        if mode == "plain":
            return render_plain_prompt(self.tokenizer, question, self.settings), []
        context = self._context_hits(retrieval)
        prompt, packed = build_rag_prompt(self.tokenizer, question, [h.passage for h in context], self.settings)
        sources = []
        for hit in retrieval.hits:
            p = hit.passage
            shown = truncate_tokens(self.tokenizer, strip_special_tokens(self.tokenizer, p.text),
                                    self.settings.prompt.max_passage_tokens)
            sources.append(Source(p.title, p.year, p.kind, p.text, round(float(hit.score), 6), hit.stage,
                                  used=hit in context and shown in packed, key=p.key))
        fixed = self._abstains(retrieval) or _template(retrieval) is not None
        return (None if fixed else prompt), sources

    def _generate(self, prompts: list[str | None], retrievals: list, gen_overrides: dict) -> list[str]:
        """Texts for the prompts in one batched call (the abstention where a prompt is None), then one batched
        retry of the linked questions the generator abstained on."""
        texts = [_template(r) or ABSTAIN_ANSWER for r in retrievals]
        todo = [i for i, prompt in enumerate(prompts) if prompt is not None]
        for shape in ("short", "result", "long"):  # one call per answer shape: short, a result line, several lines
            rows = [i for i in todo if _shape(retrievals[i]) == shape]
            options = self._shape_options(shape, gen_overrides)
            for i, text in zip(rows, self.generator.generate([prompts[i] for i in rows], **options) if rows else []):
                texts[i] = text
        again = [i for i in todo if self._answer_again(texts[i], retrievals[i]) and not _is_long(retrievals[i])]
        if again:
            retried = self.generator.generate([prompts[i] for i in again], **self._retry_options(gen_overrides))
            for i, text in zip(again, retried):
                texts[i] = text
        return texts

    def _answer(self, question: str, mode: str, text: str, sources: list[Source], retrieval: Retrieval | None,
                generated: bool, timings: dict[str, float]) -> Answer:
        template = None if generated else _template(retrieval)
        declined = False
        if generated and isinstance(retrieval, PlannedRetrieval) and retrieval.fallback \
                and not retrieval.states(text):  # computed, never guessed: a wrong wording gives way to the result
            text = template = retrieval.fallback
            generated = False
        elif generated and isinstance(retrieval, PlannedRetrieval) \
                and not retrieval.grounds(question, text, [s.text for s in sources if s.used]):  # an off-topic guess
            text = template = retrieval.decline
            generated, declined = False, True
        plan = _plan_dict(retrieval)
        missing = bool(plan and plan.get("missing")) or declined
        abstained = (not generated and template is None) or is_abstention(text) or missing
        written_by = "generator" if generated and not abstained else "template" if template else "abstention"
        text = text.rstrip(" ,;")  # a list cut by max_new_tokens
        if written_by == "generator" and not _is_long(retrieval):
            text = _without_repeats(text)
        exact = isinstance(retrieval, PlannedRetrieval) and retrieval.fallback is not None
        if abstained:
            items = []
        elif template:
            items = list(plan["answers"])
        else:  # exact answers name the catalog's own values; others are the generated items
            items = retrieval.stated_answers(text) if exact else split_answer(text)
        if mode == "rag" and items and template is None and not exact and self.settings.answer.snap_cutoff > 0:
            # copy slips: an item not in the passages snaps to the closest passage phrase
            used = [s.text for s in sources if s.used]
            text, items = snap_to_context(text, items, used, self.settings.answer.snap_cutoff)
        for source in sources:
            source.span = None if abstained else find_span(source.text, text, items)
        timings = {k: round(v, 4) for k, v in timings.items()}
        return Answer(question, mode, text, items, sources, abstained, timings, self.generator_name, plan, written_by)

    def _answer_chunk(self, questions: list[str], mode: str, k: int | None, years: tuple | None,
                      genres: list[str] | None, gen_overrides: dict) -> list[Answer]:
        """One batch: retrieval and prompts for all, one generate() call (and one retry call). Retrieval and
        prompt time are shared evenly; generation time evenly among the questions that were generated."""
        t0 = time.perf_counter()
        retrievals = self._retrieve(questions, mode, k, years, genres)
        t1 = time.perf_counter()
        prepared = [self._prepare(q, mode, r) for q, r in zip(questions, retrievals)]
        t2 = time.perf_counter()
        texts = self._generate([prompt for prompt, _ in prepared], retrievals, gen_overrides)
        t3 = time.perf_counter()
        n, generated = len(questions), sum(prompt is not None for prompt, _ in prepared)
        answers = []
        for question, retrieval, (prompt, sources), text in zip(questions, retrievals, prepared, texts):
            timings = dict(retrieve_s=(t1 - t0) / n, prompt_s=(t2 - t1) / n,
                           generate_s=(t3 - t2) / generated if prompt is not None else 0.0)
            timings["total_s"] = sum(timings.values())
            if isinstance(retrieval, PlannedRetrieval) and retrieval.plan is not None:
                timings["plan_s"] = retrieval.plan_s  # part of retrieve_s
            answers.append(self._answer(question, mode, text, sources, retrieval, prompt is not None, timings))
        return answers

    def _shape_options(self, shape: str, gen_overrides: dict) -> dict:
        """Generation options of an answer shape: a result line gets a longer budget; a description or a
        recommendation list also does not stop at a newline."""
        if shape == "short":
            return gen_overrides
        budget = self.settings.decoding.long_max_new_tokens // (2 if shape == "result" else 1)
        longest = max(gen_overrides.get("max_new_tokens") or 0, budget)
        return {**gen_overrides, "max_new_tokens": longest, **({"stop": ("\n\n",)} if shape == "long" else {})}

    def _stream_text(self, prompt: str, gen_overrides: dict, clock: dict) -> Iterator[tuple[str, None]]:
        """Yields (text so far, None) as tokens arrive and returns the text; clock["first"]: first token's time."""
        text = ""
        for delta in self.generator.stream(prompt, **gen_overrides):
            clock.setdefault("first", time.perf_counter())
            text += delta
            yield text, None
        return text

    # ------------------------------------------------------------ public

    def ask(self, question: str, mode: str = "rag", k: int | None = None, years: tuple | None = None,
            genres: list[str] | None = None, **gen_overrides) -> Answer:
        """One answer: `ask_batch([question])[0]`.

        Args:
            question: the question text.
            mode: "rag" (retrieve, then answer from the passages) or "plain" (no context).
            k: passages to retrieve (default settings.retrieval.k).
            years: (from, to) release years, either end None; genres: any of these genres (rag only).
            **gen_overrides: generation options (max_new_tokens, temperature, top_p, top_k, stop, seed, ...).

        Returns:
            The Answer: text, items, sources with answer spans, abstained, timings (retrieve_s, prompt_s,
            generate_s, total_s).
        """
        return self.ask_batch([question], mode, k, years, genres, progress=False, **gen_overrides)[0]

    def ask_batch(self, questions: list[str], mode: str = "rag", k: int | None = None, years: tuple | None = None,
                  genres: list[str] | None = None, progress: bool | None = None, **gen_overrides) -> list[Answer]:
        """Answers in order: batched retrieval and generation, in chunks of 4 x settings.decoding.batch_size
        questions, under one progress bar.

        Args:
            questions: the question texts.
            mode, k, years, genres, **gen_overrides: as in `ask`, for every question.
            progress: show a progress bar (default settings.run.progress).

        Returns:
            One Answer per question, in order. Raises ValueError, before any work, for an unknown mode, an empty
            question, or rag mode without an index.
        """
        questions = [self._check(q, mode) for q in questions]
        progress = self.settings.run.progress if progress is None else progress
        size = max(1, self.settings.decoding.batch_size) * 4
        answers: list[Answer] = []
        with tqdm(total=len(questions), desc=f"answering ({mode})", unit="q", disable=not progress) as bar:
            for start in range(0, len(questions), size):
                chunk = questions[start:start + size]
                answers.extend(self._answer_chunk(chunk, mode, k, years, genres, gen_overrides))
                bar.update(len(chunk))
        return answers

    def ask_stream(self, question: str, mode: str = "rag", k: int | None = None, years: tuple | None = None,
                   genres: list[str] | None = None, **gen_overrides) -> Iterator[tuple[str, Answer | None]]:
        """The answer of `ask`, streamed: the one answer path that is not batched.

        Args:
            question, mode, k, years, genres, **gen_overrides: as in `ask`.

        Yields:
            (text so far, None) as tokens arrive (an abstention is yielded whole), then (full text, Answer) with
            the same answer as `ask` and timings that add first_token_s.
        """
        start = time.perf_counter()
        question = self._check(question, mode)
        retrieval = self._retrieve([question], mode, k, years, genres)[0]
        t_retrieve = time.perf_counter()
        prompt, sources = self._prepare(question, mode, retrieval)
        t_prompt = time.perf_counter()
        text, clock = _template(retrieval) or ABSTAIN_ANSWER, {}
        if prompt is None:
            yield text, None
        elif isinstance(retrieval, PlannedRetrieval) and (retrieval.fallback or retrieval.decline):
            # a computed result (or an off-topic-leaning guess) is checked before it is shown: streaming a wording the
            # guard then replaces would show it first (these answers are one short line, so little latency is lost)
            text = self._generate([prompt], [retrieval], gen_overrides)[0]
            clock["first"] = time.perf_counter()
        else:
            text = yield from self._stream_text(prompt, gen_overrides, clock)
            if self._answer_again(text, retrieval):  # the shown abstention is replaced as the new answer streams
                text = yield from self._stream_text(prompt, self._retry_options(gen_overrides), clock)
        end = time.perf_counter()
        timings = dict(retrieve_s=t_retrieve - start, prompt_s=t_prompt - t_retrieve, generate_s=end - t_prompt,
                       total_s=end - start, first_token_s=clock.get("first", end) - start)
        if isinstance(retrieval, PlannedRetrieval) and retrieval.plan is not None:
            timings["plan_s"] = retrieval.plan_s  # part of retrieve_s
        answer = self._answer(question, mode, text, sources, retrieval, prompt is not None, timings)
        yield answer.text, answer

def _without_repeats(text: str) -> str:
    """A generated list that names an item twice ("The Swan, The Swan, …"), with each item once."""
    items, seen, unique = text.split(", "), set(), []
    for item in items:
        if normalize(item) not in seen:
            seen.add(normalize(item))
            unique.append(item)
    return ", ".join(unique) if len(unique) < len(items) else text


def _shape(retrieval: Retrieval | None) -> str:
    """ "long" (a description, a list), "result" (a computed result line) or "short"."""
    if not isinstance(retrieval, PlannedRetrieval) or retrieval.execution is None:
        return "short"
    return "long" if retrieval.long else "result" if retrieval.result_line else "short"


def _is_long(retrieval: Retrieval | None) -> bool:
    return _shape(retrieval) == "long"


def _template(retrieval: Retrieval | None) -> str | None:
    """The answer filled in rather than generated (what the catalog lacks), if any."""
    return retrieval.template if isinstance(retrieval, PlannedRetrieval) else None


def _plan_dict(retrieval: Retrieval | None) -> dict | None:
    """The plan and how it ran, for the JSON answer, --explain and the demo's sources panel."""
    if not isinstance(retrieval, PlannedRetrieval) or retrieval.plan is None:
        return None
    out = retrieval.plan.to_dict()
    run = retrieval.execution
    out["executed"] = run is not None
    if run is not None:
        out.update(steps=run.steps, answers=run.answers, missing=run.missing,
                   count=None if run.count is None else str(run.count))
    return out


def load_pipeline(settings: Settings, index_dir: str | None = None, need_index: bool = True) -> Pipeline:
    """Load a Pipeline: the index first (a bad folder fails fast), then the embedder, then the generator with
    the prompt format it was trained with.

    Args:
        settings: models, index, and every answer-stage setting.
        index_dir: an index folder, loaded as is (never rebuilt); default settings.index.index_dir, built from
            settings.index.sample_catalog when it holds no valid index.
        need_index: False loads no index and no embedder (plain mode and plots only).

    Returns:
        The Pipeline, its settings adjusted to a fine-tuned generator's prompt_settings.json if it has one; plots
        run on settings.models.plot_generator (loaded on the first plot), or on the answer generator without one.

    Raises:
        IndexLoadError: the index is missing, corrupt, or built by another embedder.
        ModelUnavailable: the embedder or the generator cannot be found or loaded.
    """
    index = embedder = catalog = planner = None
    if need_index:
        index_dir = index_dir or ensure_index(settings)
        index = load_index(index_dir, settings)
        embedder = load_embedder(settings=settings)
        if Path(settings.models.planner).is_dir():  # no planner shipped or trained: hybrid retrieval answers
            planner, catalog = load_planner(settings, embedder), Catalog.open(index_dir)
    model, tokenizer, spec = load_generator(settings)
    pipeline = Pipeline(index, embedder, model, tokenizer, trained_prompt_settings(settings, spec),
                        generator_name=spec.name, planner=planner, catalog=catalog)
    pipeline.use_plot_model(lambda: load_plot_generator(settings, model, tokenizer, spec))  # on the first plot
    return pipeline
