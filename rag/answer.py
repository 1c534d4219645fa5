"""What an answer is: the Answer record with its sources (each with the answer's span), and the prompt settings
a fine-tuned generator was trained with."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.config import Settings
from core.records import PassageKind, Stage


@dataclass
class Source:
    title: str
    year: int | None
    kind: PassageKind
    text: str  # the full passage text
    score: float  # RRF score, or link similarity (0-1) for linked cards
    stage: Stage  # how retrieval found it
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
    plan: dict | None = None  # the question's plan (rag.plan) and how it ran, when a planner is loaded
    written_by: str = "generator"  # or "template" (a computed count, what the catalog lacks), or "abstention"
    resolved_question: str | None = None  # in a chat: the follow-up rewritten from earlier turns (rag.conversation)

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
