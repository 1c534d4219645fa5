"""A chat with memory: follow-up questions resolved against the films and people of earlier turns.

    conversation = Conversation(pipeline)
    for text, answer in conversation.ask_stream("Who directed Blade Runner?"): ...
    for text, answer in conversation.ask_stream("and who wrote it?"): ...   # asks "Who wrote Blade Runner?"
    answer.resolved_question                                                 # "Who wrote Blade Runner?"
    conversation.reset()                                                     # `/reset` in the chats

Each turn: the question is rewritten from the memory (rag.followup: pronouns, ellipsis, a swapped topic, a moved
year range; pure string and entity work, about a millisecond), the pipeline answers the rewritten question as it
would any other (its planner reads it), and the Answer's plan, items and cited cards update the memory
(rag.memory). `cli/answer_cmd.py` (chat) and the demo (`rag.ui`, app.py) call the same functions. The demo is
stateless between requests: it rebuilds the memory from the Gradio history (`exchanges`, `replay`), exactly
for the turns it answered itself (a TurnCache keyed by the resolved question and the answer text), from the text
for any other.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import replace

from rag.followup import FUNCTION_WORDS, Resolution, rewrite
from rag.memory import Memory, Names, Turn, turn_from_answer, turn_from_text

RESET_COMMANDS = frozenset({"/reset", "/new", "/clear"})  # typed in a chat: forget the earlier turns
MAX_TURNS = 8  # turns a conversation remembers (older ones are dropped)


def is_reset(text: str | None) -> bool:
    return (text or "").strip().lower() in RESET_COMMANDS


class TurnCache:
    """The exact Turns of answered questions, by (resolved question, answer text), most recent `size` kept: a
    history replayed from text gets back the plan-derived entities of the turns this process answered."""

    def __init__(self, size: int = 4096) -> None:
        self.size, self._turns = size, OrderedDict()

    def get(self, resolved: str, answer_text: str) -> Turn | None:
        key = _key(resolved, answer_text)
        turn = self._turns.get(key)
        if turn is not None:
            self._turns.move_to_end(key)
        return turn

    def put(self, turn: Turn, answer_text: str) -> None:
        key = _key(turn.resolved, answer_text)
        self._turns[key] = turn
        self._turns.move_to_end(key)
        while len(self._turns) > self.size:
            self._turns.popitem(last=False)

    def clear(self) -> None:
        self._turns.clear()


def _key(resolved: str, answer_text: str) -> tuple[str, str]:
    """Whitespace-insensitive: the chat window hands texts back trimmed and dedented."""
    return " ".join(resolved.split()), " ".join(answer_text.split())


class Conversation:
    """One chat's memory over a pipeline; callable: question → its Resolution (what the pipeline will answer).

    Args:
        pipeline: a rag.pipeline.Pipeline (its retriever is the linker; None: no linking, plans only).
        max_turns: turns remembered.
        cache: a TurnCache to record answered turns in (the demo's), or None.
    """

    def __init__(self, pipeline=None, max_turns: int = MAX_TURNS, cache: TurnCache | None = None) -> None:
        self.pipeline, self.cache = pipeline, cache
        self.memory = Memory(max_turns)

    @property
    def names(self) -> Names:
        """Names over the pipeline's current retriever (the demo may swap the index between turns)."""
        planner = getattr(self.pipeline, "planner", None)
        common = FUNCTION_WORDS | getattr(planner, "common", frozenset())
        return Names(getattr(self.pipeline, "retriever", None), common)

    def __call__(self, question: str) -> Resolution:
        return self.resolve(question)

    def resolve(self, question: str) -> Resolution:
        """The question as the pipeline should answer it, given the earlier turns (the memory is not changed)."""
        return rewrite((question or "").strip(), self.memory, self.names)

    def remember(self, resolution: Resolution, answer) -> Turn:
        """Mark the answer with the question as asked and, when rewritten, the resolved one; add its turn."""
        answer.question = resolution.question
        answer.resolved_question = resolution.text if resolution.rewritten else None
        turn = turn_from_answer(resolution.question, resolution.text, answer, self.names)
        self.memory.add(turn)
        if self.cache is not None:
            self.cache.put(turn, getattr(answer, "text", "") or "")
        return turn

    def reset(self) -> None:
        self.memory.clear()

    def ask(self, question: str, **options):
        """One answer (pipeline.ask) to the resolved question, remembered."""
        resolution = self.resolve(question)
        answer = self.pipeline.ask(resolution.text, **options)
        self.remember(resolution, answer)
        return answer

    def ask_stream(self, question: str | Resolution, **options) -> Iterator[tuple[str, object]]:
        """pipeline.ask_stream on the resolved question (or on a Resolution already made): (text so far, None) ...,
        then (text, Answer), the Answer carrying `resolved_question` and remembered. An interrupted stream leaves
        the memory as it was."""
        resolution = question if isinstance(question, Resolution) else self.resolve(question)
        for text, answer in self.pipeline.ask_stream(resolution.text, **options):
            if answer is not None:
                self.remember(resolution, answer)
            yield text, answer

    def replay(self, exchanges: list[tuple[str, str]]) -> None:
        """Rebuild the memory from earlier (question, answer text) pairs, as a chat history holds them."""
        self.reset()
        names = self.names
        for question, answer_text in exchanges:
            resolution = self.resolve(question)
            cached = self.cache.get(resolution.text, answer_text) if self.cache is not None else None
            turn = (replace(cached, question=resolution.question) if cached is not None
                    else turn_from_text(resolution.question, resolution.text, answer_text, names))
            self.memory.add(turn)


# ---------------------------------------------------------------- chat histories (Gradio's message dicts)

def message_text(content) -> str:
    """The text of a chat message's content: a string, a {"type": "text", "text": ...} part, or a list of parts
    (Gradio 6 normalises contents to lists); files and components have none."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return content.get("text", "") if isinstance(content.get("text"), str) else ""
    if isinstance(content, (list, tuple)):
        return " ".join(t for t in (message_text(part) for part in content) if t)
    return ""


def exchanges(history: list | None) -> list[tuple[str, str]]:
    """(question, answer text) pairs of a chat history of message dicts, after its last reset command. The answer
    is the first assistant message after the question (the sources panel that follows it is not)."""
    pairs: list[list[str]] = []
    for message in history or []:
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
        content = message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
        text = message_text(content).strip()
        if role == "user":
            if is_reset(text):
                pairs = []
            elif text:
                pairs.append([text, None])
        elif role == "assistant" and pairs and pairs[-1][1] is None:
            pairs[-1][1] = text
    return [(q, a or "") for q, a in pairs]
