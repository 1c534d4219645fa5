"""ask(question, mode) → Answer: retrieval, prompt, generation, abstention, answer items, spans and timings.

Modes: "rag" (retrieve, then answer from the context), "plain" (the same model without context: the
baseline) and "plot" (continue a plot opening, optionally in a genre).
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from core.config import Settings
from rag.generate import Generator
from rag.prompt import (ABSTAIN_ANSWER, build_rag_prompt, clean_text, is_abstention, prompt_prefix,
                        render_plain_prompt, render_plot_prompt, snap_to_context, split_answer, truncate_tokens)
from rag.retrieve import Retrieval, Retriever

MODES = ("rag", "plain", "plot")


@dataclass
class Source:
    title: str
    year: int | None
    kind: str  # "card" | "plot" | "person" | "tag"
    text: str  # the full passage text
    score: float  # RRF score, or link similarity (0-1) for linked cards
    stage: str  # "title-link" | "person-link" | "tag-link" | "dense" | "bm25" | "hybrid"
    span: tuple[int, int] | None = None  # [start, end) of the answer inside `text`, when found
    used: bool = True  # the passage is in the prompt (False: retrieved, but cut by linked_context or the budget)
    key: str = ""  # the passage key, e.g. "card:inception (2010)"


@dataclass
class Answer:
    question: str
    mode: str
    text: str
    items: list[str] = field(default_factory=list)  # answer items (several for multi-answer questions)
    sources: list[Source] = field(default_factory=list)
    abstained: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # retrieve_s, prompt_s, generate_s, total_s
    generator: str = ""

    def to_dict(self) -> dict:
        out = asdict(self)
        for source in out["sources"]:
            source["span"] = list(source["span"]) if source["span"] else None
        return out


def find_span(text: str, answer: str, items: list[str]) -> tuple[int, int] | None:
    """Where the whole answer, else its first item found, occurs in text (case-insensitive)."""
    lowered = text.lower()
    for needle in [answer, *items]:
        needle = needle.strip()
        if len(needle) >= 2:
            at = lowered.find(needle.lower())
            if at >= 0:
                return at, at + len(needle)
    return None


def trained_prompt_settings(settings: Settings, spec) -> Settings:
    """Settings with the prompt format a fine-tuned generator was trained with (its prompt_settings.json,
    written by `python -m training finetune`): demonstrations, passage and question truncation, budget."""
    folder = Path(spec.adapter or spec.path) if spec is not None else None
    file = folder / "prompt_settings.json" if folder is not None else None
    if file is None or not file.is_file():
        return settings
    try:
        trained = json.loads(file.read_text())
    except (OSError, ValueError):
        return settings
    known = {k: trained[k] for k in ("prompt_examples", "max_passage_tokens", "max_question_tokens") if k in trained}
    if isinstance(trained.get("max_prompt_tokens"), int):
        known["max_prompt_tokens"] = min(settings.prompt.max_prompt_tokens, trained["max_prompt_tokens"])
    return settings.with_overrides(**known)


class Pipeline:
    def __init__(self, index, embedder, model, tokenizer, settings: Settings, generator_name: str | None = None) -> None:
        self.settings = settings
        self.embedder, self.tokenizer = embedder, tokenizer
        self.generator = Generator(model, tokenizer, settings)
        self.generator_name = generator_name or getattr(model.config, "name_or_path", "") or type(model).__name__
        self._abstain_ids: list[int] | None = None  # first token(s) of the abstention, see _abstention_start
        for mode in ("rag", "plain"):
            self.generator.add_prefix(prompt_prefix(tokenizer, settings, mode))
        self.swap_index(index)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Pipeline":
        """Load the embedder, the generator and the index at settings.index.index_dir (built from the sample if absent)."""
        return load_pipeline(settings)

    @property
    def model(self):
        return self.generator.model

    def swap_index(self, new_index) -> None:
        """Serve another index (the app calls this after building or adding)."""
        self.index = new_index
        self.retriever = Retriever(new_index, self.embedder, self.settings) if new_index is not None else None

    # ------------------------------------------------------------ building blocks

    def _check(self, question: str, mode: str) -> str:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        question = (question or "").strip()
        if not question:
            raise ValueError("the question is empty")
        if mode == "rag" and self.retriever is None:
            raise ValueError("no index is loaded; rag mode needs one")
        return question

    def _abstention_start(self) -> list[int]:
        """The token(s) an answer starts with when the generator writes the abstention."""
        if self._abstain_ids is None:
            variants = (ABSTAIN_ANSWER, " " + ABSTAIN_ANSWER)
            self._abstain_ids = sorted({self.tokenizer(v, add_special_tokens=False)["input_ids"][0] for v in variants})
        return self._abstain_ids

    def _answer_again(self, text: str, retrieval: Retrieval | None) -> bool:
        """The generator abstained although the question linked a card (so the catalog covers it)."""
        return bool(self.settings.answer.answer_when_linked and retrieval is not None and retrieval.linked
                    and is_abstention(text))

    def _abstains(self, retrieval: Retrieval) -> bool:
        return not retrieval.hits or (retrieval.best_dense < self.settings.answer.abstain_threshold and not retrieval.linked)

    def _context_hits(self, retrieval: Retrieval) -> list:
        """The hits put in the prompt: all k, or, when a title/person links, the linked cards first and at
        most settings.prompt.linked_context passages (a linked card holds the facts; more passages only distract)."""
        if not retrieval.linked or self.settings.prompt.linked_context <= 0:
            return retrieval.hits
        linked = [h for h in retrieval.hits if h.stage.endswith("-link")]
        others = [h for h in retrieval.hits if not h.stage.endswith("-link")]
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
            shown = truncate_tokens(self.tokenizer, clean_text(self.tokenizer, p.text), self.settings.prompt.max_passage_tokens)
            sources.append(Source(p.title, p.year, p.kind, p.text, round(float(hit.score), 6), hit.stage,
                                  used=hit in context and shown in packed, key=p.key))
        return (None if self._abstains(retrieval) else prompt), sources

    def _answer(self, question: str, mode: str, text: str, sources: list[Source], abstained: bool,
                timings: dict[str, float]) -> Answer:
        if mode != "plot":
            text = text.rstrip(" ,;")  # a list cut by max_new_tokens
        items = [] if abstained or mode == "plot" else split_answer(text)
        if mode == "rag" and items and self.settings.answer.snap_cutoff > 0:  # typos in copied names
            text, items = snap_to_context(text, items, [s.text for s in sources if s.used], self.settings.answer.snap_cutoff)
        for source in sources:
            source.span = None if abstained else find_span(source.text, text, items)
        timings = {k: round(v, 4) for k, v in timings.items()}
        return Answer(question, mode, text, items, sources, abstained, timings, self.generator_name)

    # ------------------------------------------------------------ public

    def ask(self, question: str, mode: str = "rag", k: int | None = None, years: tuple | None = None,
            genres: list[str] | None = None, **gen_overrides) -> Answer:
        start = time.perf_counter()
        question = self._check(question, mode)
        if mode == "plot":
            text = self.plot(question, genre=(genres or [None])[0], **gen_overrides)
            total = time.perf_counter() - start
            return self._answer(question, mode, text, [], False,
                                dict(retrieve_s=0.0, prompt_s=0.0, generate_s=total, total_s=total))
        retrieval = self.retriever.search(question, k=k, years=years, genres=genres) if mode == "rag" else None
        t_retrieve = time.perf_counter()
        prompt, sources = self._prepare(question, mode, retrieval)
        t_prompt = time.perf_counter()
        text = ABSTAIN_ANSWER if prompt is None else self.generator.generate([prompt], **gen_overrides)[0]
        if prompt is not None and self._answer_again(text, retrieval):
            text = self.generator.generate([prompt], suppress_first=self._abstention_start(), **gen_overrides)[0]
        end = time.perf_counter()
        return self._answer(question, mode, text, sources, prompt is None or is_abstention(text), dict(
            retrieve_s=t_retrieve - start, prompt_s=t_prompt - t_retrieve, generate_s=end - t_prompt,
            total_s=end - start))

    def ask_batch(self, questions: list[str], mode: str = "rag", k: int | None = None, progress: bool | None = None,
                  **gen_overrides) -> list[Answer]:
        """Answers for many questions: batched retrieval and batched generation (for evaluation)."""
        if mode == "plot":
            return [self.ask(q, mode="plot", **gen_overrides) for q in questions]
        questions = [self._check(q, mode) for q in questions]
        progress = self.settings.run.progress if progress is None else progress
        answers: list[Answer] = []
        size = max(1, self.settings.decoding.batch_size) * 4
        bar = tqdm(total=len(questions), desc=f"answering ({mode})", unit="q", disable=not progress)
        for start in range(0, len(questions), size):
            chunk = questions[start:start + size]
            t0 = time.perf_counter()
            retrievals = self.retriever.search_batch(chunk, k=k) if mode == "rag" else [None] * len(chunk)
            t1 = time.perf_counter()
            prepared = [self._prepare(q, mode, r) for q, r in zip(chunk, retrievals)]
            t2 = time.perf_counter()
            todo = [i for i, (prompt, _) in enumerate(prepared) if prompt is not None]
            texts = self.generator.generate([prepared[i][0] for i in todo], **gen_overrides) if todo else []
            generated = dict(zip(todo, texts))
            again = [i for i in todo if self._answer_again(generated[i], retrievals[i])]
            if again:
                retried = self.generator.generate([prepared[i][0] for i in again],
                                                  suppress_first=self._abstention_start(), **gen_overrides)
                generated.update(zip(again, retried))
            t3 = time.perf_counter()
            n = len(chunk)
            for i, (question, (prompt, sources)) in enumerate(zip(chunk, prepared)):
                timings = dict(retrieve_s=(t1 - t0) / n, prompt_s=(t2 - t1) / n,
                               generate_s=(t3 - t2) / max(1, len(todo)) if i in generated else 0.0)
                timings["total_s"] = sum(timings.values())
                text = generated.get(i, ABSTAIN_ANSWER)
                answers.append(self._answer(question, mode, text, sources, prompt is None or is_abstention(text),
                                            timings))
            bar.update(n)
        bar.close()
        return answers

    def ask_stream(self, question: str, mode: str = "rag", k: int | None = None, years: tuple | None = None,
                   genres: list[str] | None = None, **gen_overrides) -> Iterator[tuple[str, Answer | None]]:
        """Yields (text so far, None) as tokens arrive, then (full text, Answer)."""
        start = time.perf_counter()
        question = self._check(question, mode)
        if mode == "plot":
            text = ""
            for text in self.plot_stream(question, genre=(genres or [None])[0], **gen_overrides):
                yield text, None
            total = time.perf_counter() - start
            yield text, self._answer(question, mode, text, [], False,
                                     dict(retrieve_s=0.0, prompt_s=0.0, generate_s=total, total_s=total))
            return
        retrieval = self.retriever.search(question, k=k, years=years, genres=genres) if mode == "rag" else None
        t_retrieve = time.perf_counter()
        prompt, sources = self._prepare(question, mode, retrieval)
        t_prompt = time.perf_counter()
        text = ""
        first = None
        if prompt is None:
            text = ABSTAIN_ANSWER
            yield text, None
        else:
            for delta in self.generator.stream(prompt, **gen_overrides):
                first = first or time.perf_counter()
                text += delta
                yield text, None
            if self._answer_again(text, retrieval):  # the shown abstention is replaced as the new answer streams
                text = ""
                for delta in self.generator.stream(prompt, suppress_first=self._abstention_start(), **gen_overrides):
                    text += delta
                    yield text, None
        end = time.perf_counter()
        timings = dict(retrieve_s=t_retrieve - start, prompt_s=t_prompt - t_retrieve, generate_s=end - t_prompt,
                       total_s=end - start, first_token_s=(first or end) - start)
        answer = self._answer(question, mode, text, sources, prompt is None or is_abstention(text), timings)
        yield answer.text, answer

    def plot(self, prompt: str, genre: str | None = None, **gen_overrides) -> str:
        """The plot opening followed by the model's continuation."""
        text = ""
        for text in self.plot_stream(prompt, genre, _stream=False, **gen_overrides):
            pass
        return text

    def plot_stream(self, prompt: str, genre: str | None = None, _stream: bool = True, **gen_overrides) -> Iterator[str]:
        """Yields the plot so far (opening + continuation) as tokens arrive."""
        opening = " ".join((prompt or "").split())
        if not opening:
            raise ValueError("the plot prompt is empty")
        s = self.settings
        options = dict(max_new_tokens=s.plot.plot_max_new_tokens, temperature=s.plot.plot_temperature,
                       repetition_penalty=s.plot.plot_repetition_penalty, stop_at_newline=False)
        options.update({k: v for k, v in gen_overrides.items() if v is not None})
        rendered = render_plot_prompt(self.tokenizer, opening, genre, s)
        joiner = lambda cont: opening + ("" if not cont or cont[0] in " ,.;:!?'" else " ") + cont  # noqa: E731
        if not _stream:
            yield joiner(self.generator.generate([rendered], **options)[0])
            return
        continuation = ""
        for delta in self.generator.stream(rendered, **options):
            continuation += delta
            yield joiner(continuation)


def load_pipeline(settings: Settings, index_dir: str | None = None, need_index: bool = True) -> Pipeline:
    """The index first (a bad folder fails fast), then the embedder and the generator with the prompt format it
    was trained with. An explicit `index_dir` is loaded as is (never rebuilt); without one, the index at
    settings.index.index_dir is used, built from the sample catalog if absent. need_index=False: plain/plot only."""
    from index.build import ensure_index
    from index.store import load_index
    from core.models import load_embedder, load_generator

    index = embedder = None
    if need_index:
        index = load_index(index_dir or ensure_index(settings), settings)
        embedder = load_embedder(settings=settings)
    model, tokenizer, spec = load_generator(settings)
    return Pipeline(index, embedder, model, tokenizer, trained_prompt_settings(settings, spec), generator_name=spec.name)
