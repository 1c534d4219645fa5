"""Rendering QA pairs into training examples with the RAG pipeline's own prompts (rag.prompt); plot continuation
lives in training.lm_data. Every example is a dict with prompt, completion, add_eos, kind, source, question, answers."""
from __future__ import annotations

import random

from core.config import Settings
from core.records import PassageKind, Question
from evaluation.metrics import normalize_answer
from rag.prompt import ABSTAIN_ANSWER, format_answer, pack_passages, render_plain_prompt, render_rag_prompt
from rag.retrieve import Retriever


def answers_in_context(answers: list[str], context: str) -> list[str]:
    """Gold answers that occur (whole words, normalised) in the context, in order of first occurrence."""
    haystack = f" {normalize_answer(context)} "
    found = []
    for answer in dict.fromkeys(answers):
        needle = normalize_answer(answer)
        pos = haystack.find(f" {needle} ") if needle else -1
        if pos >= 0:
            found.append((pos, answer))
    return [a for _, a in sorted(found)]


def _has_answer(passage, answers: list[str]) -> bool:
    return bool(answers_in_context(answers, passage.text))


def completion_for(prompt: str, answer: str) -> str:
    """Base-model prompts ending in "Answer:" get the leading space the model would generate."""
    return answer if not prompt or prompt[-1].isspace() else " " + answer


class RagRenderer:
    """Renders QA pairs with rag.prompt.render_rag_prompt over retrieved / gold / distractor passages."""

    def __init__(self, tokenizer, settings: Settings, max_length: int, gold_share: float, abstain_share: float,
                 k: int | None = None, seed: int = 42, index=None, embedder=None, pool: list | None = None) -> None:
        self.tokenizer, self.settings, self.max_length = tokenizer, settings, max_length
        self.gold_share, self.abstain_share = gold_share, abstain_share
        self.k = k or settings.retrieval.k
        self.retriever = None
        if index is not None:
            self.retriever = Retriever(index, embedder, settings)
            pool = index.passages
        self.pool = pool or []
        self.by_ref: dict[str, list] = {}  # passage_key(kind, name) without a part → the passages holding its facts
        for p in self.pool:
            if p.kind != PassageKind.PLOT:
                self.by_ref.setdefault(p.ref, []).append(p)
        self.rng = random.Random(seed)

    def candidates(self, pairs: list[Question]) -> list[list]:
        """Retrieved passages per question (more than k, so distractors remain); random ones without an index."""
        if self.retriever is None:
            return [self.rng.sample(self.pool, min(len(self.pool), self.k * 3)) for _ in pairs]
        out = []
        batch = 64
        for start in range(0, len(pairs), batch):
            chunk = pairs[start:start + batch]
            for retrieval in self.retriever.search_batch([p.question for p in chunk], k=self.k + 5):
                out.append([hit.passage for hit in retrieval.hits])
        return out

    def render(self, pair: Question, retrieved: list) -> dict | None:
        gold = [p for ref in pair.gold_keys for p in self.by_ref.get(ref, []) if _has_answer(p, pair.answers)]
        gold += [p for p in retrieved if p not in gold and _has_answer(p, pair.answers)]
        distractors = [p for p in retrieved if not _has_answer(p, pair.answers)]
        if self.retriever is None and not gold:
            return None  # no index and no known gold passage: nothing to ground the answer in
        u = self.rng.random()
        if u < self.abstain_share and distractors:
            kind, passages = "rag-abstain", distractors[: self.k]
        elif gold and (u < self.abstain_share + self.gold_share or self.retriever is None):
            passages = distractors[: self.k - 1]
            passages.insert(self.rng.randrange(len(passages) + 1), gold[0])
            kind = "rag-gold"
        elif self.retriever is not None:
            kind, passages = "rag-retrieved", retrieved[: self.k]
        else:
            return None
        target = ABSTAIN_ANSWER if kind == "rag-abstain" else format_answer(pair.answers)
        if kind == "rag-retrieved":  # the target is only known after packing: leave room for either
            target = max(target, ABSTAIN_ANSWER, key=len)
        answer_tokens = len(self.tokenizer(" " + target, add_special_tokens=False).input_ids) + 1  # + eos
        settings = self.settings.with_overrides(
            max_prompt_tokens=min(self.settings.prompt.max_prompt_tokens, self.max_length - answer_tokens), k=self.k)
        prompt, present = self._render(pair, passages, settings)
        if kind == "rag-gold" and not present:  # packing cut the gold passage: put it first
            prompt, present = self._render(pair, [gold[0]] + distractors[: self.k - 1], settings)
        if (kind == "rag-abstain" and present) or (kind == "rag-gold" and not present):
            return None
        target = format_answer(present) if present else ABSTAIN_ANSWER
        return make_example(prompt, completion_for(prompt, target), kind, pair)

    def _render(self, pair: Question, passages: list, settings: Settings) -> tuple[str, list[str]]:
        """The pipeline's prompt, and the gold answers found in the passages that were packed into it."""
        packed = pack_passages(self.tokenizer, pair.question, passages, settings)
        return render_rag_prompt(self.tokenizer, pair.question, passages, settings), \
            answers_in_context(pair.answers, "\n".join(packed))


def make_example(prompt: str, completion: str, kind: str, pair: Question | None = None, source: str = "",
             add_eos: bool = True) -> dict:
    return {
        "prompt": prompt, "completion": completion, "add_eos": add_eos, "kind": kind,
        "source": pair.source if pair else source, "question": pair.question if pair else "",
        "answers": list(pair.answers) if pair else [],
    }


def render_plain(pair: Question, tokenizer, settings: Settings) -> dict:
    prompt = render_plain_prompt(tokenizer, pair.question, settings)
    return make_example(prompt, completion_for(prompt, format_answer(pair.answers)), "plain", pair)

