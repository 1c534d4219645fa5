"""Plot-continuation training data: catalog plots → genre-conditioned (opening, continuation) examples.

Each example is rendered with rag.prompt.render_plot_prompt, the prompt the pipeline's `plot` sends, so training
and inference agree: the prompt holds the genre and the opening (for chat models the assistant turn starts with the
opening), the completion is the plot's next sentences, and the loss is on the completion only. A plot yields up to
`windows` examples (opening = 1-2 sentences, continuation = the sentences after it that fit `max_length`); the first
opening of some plots stops mid-sentence, as a user's opening may. Films, not examples, are split into train /
validation / test, so every chunk of a held-out film stays held out.

WikiMovies plots are lowercased: they are truecased with the casing the cased catalogs use for each word (their own
film's cast, crew and title included) and dropped when a word's casing is unknown, so no lowercase names are learned.
"""
from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from core.config import Settings
from core.records import Movie
from rag.prompt import count_tokens, render_plot_prompt
from training.examples import make_example

KIND = "lm-plot"  # the example kind (column `kind`) of plot-continuation examples
SPLITS = ("train", "validation", "test")
NO_GENRE = {"", "unknown", "-", "n/a", "none"}
MAX_OPENING_TOKENS = 96  # a longer first sentence is no opening a user types
_CITATION = re.compile(r"\[\d+\]|\[citation needed\]", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”')]*\s+(?=[\"“'(]?[A-Z0-9])")
_ABBREVIATION = re.compile(r"(\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|Capt|Lt|Sgt|Col|Gen|Gov|Rev|Mt|vs|No)|\b[A-Z])\.$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*")
_AFTER_END = re.compile(r"[.!?:;\"“”]\s*$")


@dataclass(frozen=True)
class PlotWindow:
    """One training window of a plot: what the user would type, what the model should write."""

    opening: str
    continuation: str  # without the leading space
    ends_plot: bool  # the continuation reaches the end of the plot text (the example ends with eos)


def film_split(key: str, val_share: float, test_share: float) -> str:
    """train / validation / test for a film, by a hash of its key (stable across runs and machines)."""
    u = int(hashlib.md5(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "validation" if u < val_share else "test" if u < val_share + test_share else "train"


def clean_plot(text: str) -> str:
    """One paragraph of plain text: citation marks removed, whitespace collapsed."""
    return " ".join(_CITATION.sub("", text).split())


def split_sentences(text: str) -> list[str]:
    """Sentences; a title or an initial ("Dr.", "J.") does not end one."""
    out: list[str] = []
    for part in (s.strip() for s in _SENTENCE_END.split(text)):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {part}"
        elif part:
            out.append(part)
    return out


class Truecaser:
    """Restores the casing of lowercased text from the casing words have inside sentences of cased texts."""

    def __init__(self) -> None:
        self._counts: dict[str, Counter] = defaultdict(Counter)
        self._titles: dict[str, Counter] = defaultdict(Counter)  # title-cased words: consulted last
        self._initial: set[str] = set()  # words seen only at sentence starts (their casing there says nothing)

    def learn(self, text: str, weight: int = 1) -> None:
        for match in _WORD.finditer(text):
            word, before = match.group(), text[:match.start()]
            if not before.strip() or _AFTER_END.search(before):
                self._initial.add(word.lower())
            else:
                self._counts[word.lower()][word] += weight

    def learn_names(self, names: list[str], titles: bool = False) -> None:
        """People's names (every word keeps its casing), or titles, whose words are capitalised whatever they are
        ("The Fountain"), so they only decide words no sentence or name has."""
        counts = self._titles if titles else self._counts
        for name in names:
            for word in _WORD.findall(name):
                counts[word.lower()][word] += 1

    def case(self, text: str) -> str | None:
        """The text with every word in its usual casing and sentence starts capitalised; None when a word is unknown."""
        out, last = [], 0
        for match in _WORD.finditer(text):
            word = match.group()
            counts = self._counts.get(word) or (self._titles.get(word) if word not in self._initial else None)
            if counts:
                cased = counts.most_common(1)[0][0]
            elif word in self._initial:
                cased = word  # seen only at sentence starts: an ordinary word
            else:
                return None
            before = text[:match.start()]
            if not before.strip() or _AFTER_END.search(before):
                cased = cased[:1].upper() + cased[1:]
            out += [text[last:match.start()], cased]
            last = match.end()
        out.append(text[last:])
        return "".join(out)


def plot_texts(movies: list[Movie]) -> dict[str, list[str]]:
    """Film id → its plot paragraphs (one per source), cleaned; lowercased ones truecased or dropped."""
    caser = Truecaser()
    paragraphs = {m.id: [clean_plot(p) for p in m.plot.split("\n\n") if p.strip()] for m in movies}
    for m in movies:
        caser.learn_names([*m.cast, *m.directors, *m.writers])
        caser.learn_names([m.title], titles=True)
        for text in paragraphs[m.id]:
            if text != text.lower():
                caser.learn(text)
    out = {}
    for m in movies:
        texts = [t if t != t.lower() else caser.case(t) for t in paragraphs[m.id]]
        out[m.id] = [t for t in texts if t]
    return out


def genre_label(genres: list[str], rng: random.Random) -> str | None:
    """Mostly one of the film's genres (what a user picks), sometimes two, sometimes none."""
    usable = [g.strip() for g in genres if g.strip().lower() not in NO_GENRE]
    u = rng.random()
    if not usable or u < 0.1:
        return None
    if len(usable) > 1 and u < 0.3:
        return ", ".join(rng.sample(usable, 2))
    return rng.choice(usable)


def plot_windows(text: str, count_completion, budget_for, windows: int, rng: random.Random,
                 mid_sentence_share: float = 0.2) -> list[PlotWindow]:
    """Up to `windows` (opening, continuation) pairs along one plot text.

    Args:
        text: a cleaned plot paragraph.
        count_completion: completion text → its token count.
        budget_for: opening → completion tokens left by its prompt (None when the opening is too long).
        windows: windows at most; each next one opens after the previous continuation.
        rng: the sampling of opening lengths and mid-sentence cuts.
        mid_sentence_share: share of first openings cut after a few words of the first sentence.
    """
    sentences = split_sentences(text)
    out: list[PlotWindow] = []
    start = 0
    while len(out) < windows and start < len(sentences):
        rest = list(sentences[start:])
        words = rest[0].split()
        if not out and len(words) >= 10 and rng.random() < mid_sentence_share:
            cut = rng.randrange(4, len(words) - 4)
            opening, rest[0] = " ".join(words[:cut]), " ".join(words[cut:])
            used = 0
        else:
            used = 1 if len(rest) < 3 else rng.choice((1, 1, 2))
            opening = " ".join(rest[:used])
        budget = budget_for(opening)
        if budget is None or used >= len(rest):
            break
        taken = used
        while taken < len(rest) and count_completion(" " + " ".join(rest[used:taken + 1])) <= budget:
            taken += 1
        if taken == used:  # not even one sentence fits: the plot gives no more windows
            break
        out.append(PlotWindow(opening, " ".join(rest[used:taken]), start + taken == len(sentences)))
        start += taken
    return out


def plot_examples(movies: list[Movie], tokenizer, settings: Settings, max_length: int, source: str,
                  val_share: float, test_share: float, windows: int = 3, seed: int = 42
                  ) -> tuple[list[tuple[str, dict]], list[dict]]:
    """(split, example) pairs of plot continuation, and the held-out openings (the first window of each held-out
    film, for sampling).

    Args:
        movies: combined catalog records; films without a plot give nothing.
        tokenizer: the tokenizer (and chat template) of the model to train.
        settings: the prompt settings render_plot_prompt uses.
        max_length: tokens per example (prompt + completion + eos).
        source: the `source` column of the examples.
        val_share, test_share: shares of films held out as validation (dev) and test.
        windows: windows per plot paragraph at most.
        seed: genre, opening and cut sampling.

    Returns:
        ([(split, example)], [{"split", "id", "title", "year", "genre", "opening", "continuation"}]).
    """
    rng = random.Random(seed)
    texts = plot_texts(movies)
    examples: list[tuple[str, dict]] = []
    openings: dict[str, dict] = {}  # film id → its first held-out window
    for movie in movies:
        split = film_split(movie.id, val_share, test_share)
        for paragraph in texts[movie.id]:
            genre = genre_label(movie.genres, rng)

            def budget_for(opening: str, genre=genre) -> int | None:
                if count_tokens(tokenizer, opening) > MAX_OPENING_TOKENS:
                    return None
                return max_length - 1 - count_tokens(tokenizer, render_plot_prompt(tokenizer, opening, genre, settings))

            def count_completion(text: str) -> int:
                return len(tokenizer(text, add_special_tokens=False)["input_ids"])

            for window in plot_windows(paragraph, count_completion, budget_for, windows, rng):
                prompt = render_plot_prompt(tokenizer, window.opening, genre, settings)
                example = make_example(prompt, " " + window.continuation, KIND, source=source,
                                       add_eos=window.ends_plot)
                example["question"] = f"{movie.title} ({movie.year})" if movie.year else movie.title
                examples.append((split, example))
                if split != "train" and movie.id not in openings:
                    openings[movie.id] = {"split": split, "id": movie.id, "title": movie.title, "year": movie.year,
                                          "genre": genre, "opening": window.opening,
                                          "continuation": window.continuation}
    return examples, list(openings.values())
