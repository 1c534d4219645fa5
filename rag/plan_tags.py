"""The planner's tagger: constraints from general patterns over numbers and the catalog's vocabulary, and the masked
question the planner's classifier reads.

Spans are token spans over `core.records.normalize(question).split()` (the linker's tokens). Linked titles, people
and tags (rag.retrieve.Retriever.link), genre and language names of the catalog, years, decades, other numbers and
capitalised names nothing linked become placeholders: "who directed the 5 longest horror films of the 90s" →
"who directed the [NUM] longest [GENRE] films of the [DECADE]". Constraints: year ranges (in/from 1999, the 90s,
early 1980s, between 1990 and 1995, before/after/since 2000, 2000 or later), genre, language, a minimum rating
("rated above 7.5"), runtime bounds ("under 2 hours", "longer than 150 minutes"), and n ("top 5", "the ten best").
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core.records import Stage, normalize
from rag.plan import Constraints
from rag.plan_names import extend_title, join_titles, name_spans
from rag.plan_scan import YEAR, scan
from rag.plan_spans import CONNECT, GENERIC, Span, Vocabulary, align

PLACEHOLDER = {"film": "[FILM]", "person": "[PERSON]", "tag": "[TAG]", "genre": "[GENRE]", "language": "[LANGUAGE]",
               "year": "[YEAR]", "decade": "[DECADE]", "num": "[NUM]", "name": "[NAME]"}
_KIND = {Stage.TITLE_LINK: "film", Stage.PERSON_LINK: "person", Stage.TAG_LINK: "tag"}
_PREPOSITIONS = frozenset("in from since before after until between and of to than by".split())
_FILM_NOUNS = frozenset("film films movie movies flick flicks picture pictures".split())


@dataclass
class Tagged:
    question: str
    tokens: list[str]
    spans: list[Span]  # sorted, non-overlapping
    constraints: Constraints
    n: int | None
    masked: str
    years: list[int] = field(default_factory=list)  # every year named, in order (a check's expected year)
    residual: str | None = None  # the longest run of words neither template words nor tagged: an unlinked title?


def tag(question: str, links: list, vocab: Vocabulary, common: frozenset[str] = frozenset(),
        tags: dict[str, list[int]] | None = None) -> Tagged:
    """Spans, constraints, n and the masked text of one question.

    Args:
        question: the question as asked.
        links: `Retriever.link(question)` (spans of titles, people and tags; fuzzy links without a span are ignored).
        vocab: the catalog's genres, languages and famous surnames.
        common: question-template words; a title or name made only of them, written in lower case, is not linked
            ("who made titanic" does not name the film "Made").
        tags: the linker's tag table (normalised tag → tag card rows): tags right after "about", "tagged", "deal
            with", "described by" link even where the linker links no tags ("films dealing with poker").
    """
    tokens = normalize(question).split()
    aligned = align(question)
    spans = [sp for sp in _link_spans(links) if not _weak(sp, tokens, question, aligned, common)]
    spans = _tag_spans(tokens, spans, tags or {})
    matches = scan(question)
    if aligned is None:  # rare (odd Unicode): constraints still count, nothing else is masked
        return _finish(question, tokens, spans, [(m, None) for m in matches], None, common)
    placed = []  # (match, token spans of its masks)
    for m in matches:
        masks = [(*_tokens_of(aligned, s, e), kind) for s, e, kind in m.masks]
        masks = [x for x in masks if x[0] < x[1]]
        clash = [sp for sp in spans if any(sp.start < e and s < sp.end for s, e, _ in masks)]
        numeric = bool(set(m.updates) & {"n", "min_rating", "max_runtime", "min_runtime"})
        if clash and all(_year_not_title(sp, tokens) or (numeric and tokens[sp.start].isdigit()) for sp in clash):
            spans = [sp for sp in spans if sp not in clash]
        elif clash:
            continue  # a title holds it ("2001: A Space Odyssey")
        placed.append((m, masks))
    covered = {i for _, masks in placed for s, e, _ in masks for i in range(s, e)}
    spans = _vocab_spans(question, tokens, aligned, spans, covered, vocab)
    spans = join_titles(question, aligned, name_spans(question, aligned, spans, covered, vocab, common))
    if common and not any(c.isupper() for c in question):
        spans = [extend_title(question, aligned, sp, spans, covered, common) for sp in spans]
    return _finish(question, tokens, spans, placed, aligned, common)


def _link_spans(links: list) -> list[Span]:
    """One span per linked token span; several readings of one span (a film and a person) become alternatives,
    a tag first (tags link only in questions about topics)."""
    by_span: dict[tuple[int, int], list] = {}
    for link in links:
        if link.start >= 0 and link.stage in _KIND:
            by_span.setdefault((link.start, link.end), []).append((_KIND[link.stage], link.rows))
    spans = []
    for (start, end), readings in sorted(by_span.items()):
        readings.sort(key=lambda r: ("tag", "film", "person").index(r[0]))
        spans.append(Span(start, end, readings[0][0], readings[0][1], readings[1:]))
    return spans


def _weak(span: Span, tokens: list[str], question: str, aligned, common: frozenset[str]) -> bool:
    """A linked film or person made only of template words and written in lower case (or opening the question),
    or a tag made only of the linker's template words ("actors" in "which words describe X's actors")."""
    words = tokens[span.start:span.end]
    if span.kind == "tag":  # tags are lower case: template words are tags only right after "about", "tagged", ...
        return all(w in GENERIC for w in words) or (all(w in common for w in words)
                                                      and not _after_intro(tokens, span.start))
    if aligned is None:
        return all(w in common for w in words)
    raw = question[aligned[span.start][1]:aligned[span.end - 1][2]]
    if span.kind == "film" and len(words) == 1 and raw.islower() and any(c.isupper() for c in question[1:]):
        return True  # "how manny films did Walton Goggins star in": names are capitalised here, "manny" is not one
    if not all(w in common for w in words):
        return False
    return raw.islower() or (span.start == 0 and raw[1:] == raw[1:].lower())


_TAG_INTROS = ("about", "tagged", "tagged with", "deal with", "deals with", "dealing with", "described by",
               "described with", "described as", "topic of", "theme of", "themes of", "tag")


def _after_intro(tokens: list[str], i: int) -> bool:
    return any(" ".join(tokens[max(0, i - len(p.split())):i]) == p for p in _TAG_INTROS)


def _tag_spans(tokens: list[str], spans: list[Span], tags: dict[str, list[int]]) -> list[Span]:
    """Tags after a tag word that nothing else claims, longest first ("movies dealing with road trip")."""
    taken = {i for sp in spans for i in range(sp.start, sp.end)}
    out = list(spans)
    for i in range(len(tokens)):
        if not _after_intro(tokens, i):
            continue
        for j in range(min(len(tokens), i + 4), i, -1):
            key = " ".join(tokens[i:j])
            same = next((sp for sp in out if (sp.start, sp.end) == (i, j)), None)
            if key in tags and same is not None and same.kind != "tag":  # "films dealing with Tom Hanks": a tag
                same.alts.insert(0, (same.kind, same.value))
                same.kind, same.value = "tag", tags[key]
                break
            if key in tags and not taken & set(range(i, j)):
                out.append(Span(i, j, "tag", tags[key]))
                taken.update(range(i, j))
                break
    return sorted(out, key=lambda sp: sp.start)


def _tokens_of(aligned: list[tuple[str, int, int]], start: int, end: int) -> tuple[int, int]:
    inside = [i for i, (_, s, e) in enumerate(aligned) if s < end and e > start]
    return (inside[0], inside[-1] + 1) if inside else (0, 0)


def _year_not_title(span: Span, tokens: list[str]) -> bool:
    """A one-word title that is a year, after a preposition, is the year ("films from 1983" is not "1983")."""
    return (span.end - span.start == 1 and bool(YEAR.fullmatch(tokens[span.start]))
            and span.start > 0 and tokens[span.start - 1] in _PREPOSITIONS)


def _vocab_spans(question: str, tokens: list[str], aligned, spans: list[Span], covered: set[int],
                 vocab: Vocabulary) -> list[Span]:
    """Genre and language names (longest first). On a linked span the name wins when written in lower case or
    followed by "film(s)"/"movie(s)" ("western films"), except over a tag."""
    taken = {i for sp in spans for i in range(sp.start, sp.end)} | covered
    out = list(spans)
    for n in (4, 3, 2, 1):
        for i in range(len(tokens) - n + 1):
            key = " ".join(tokens[i:i + n])
            kind = "genre" if key in vocab.genres else "language" if key in vocab.languages else None
            if kind is None or any(j in covered for j in range(i, i + n)) or _in_name(question, aligned, i, i + n):
                continue
            value = (vocab.genres if kind == "genre" else vocab.languages)[key]
            same = next((sp for sp in out if sp.start == i and sp.end == i + n), None)
            if same is not None and same.kind in ("film", "person"):
                raw = question[aligned[i][1]:aligned[i + n - 1][2]]
                if raw.islower() or (i + n < len(tokens) and tokens[i + n] in _FILM_NOUNS):
                    same.alts.insert(0, (same.kind, same.value))
                    same.kind, same.value = kind, value
                else:
                    same.alts.append((kind, value))
            elif same is not None:
                same.alts.append((kind, value))
            elif not any(j in taken for j in range(i, i + n)):
                out.append(Span(i, i + n, kind, value))
                taken.update(range(i, i + n))
    return sorted(out, key=lambda sp: sp.start)


def _in_name(question: str, aligned, start: int, end: int) -> bool:
    """A capitalised genre or language word next to another capitalised word is part of a name ("Star Wars")."""
    def cap(i: int) -> bool:
        return 0 < i < len(aligned) and question[aligned[i][1]:aligned[i][2]][:1].isupper()

    return cap(start) and (cap(start - 1) or cap(end))


def _finish(question: str, tokens: list[str], spans: list[Span], placed: list, aligned,
            common: frozenset[str]) -> Tagged:
    """Bind years to the films they follow or precede; the rest become constraints; mask."""
    c, n, years = Constraints(), None, []
    films = [sp for sp in spans if sp.kind in ("film", "name")]
    for m, masks in placed:
        up = m.updates
        if "year" in up:
            years.append(up["year"])
            film = _bound_film(films, masks, tokens) if masks else None
            if film is not None:
                film.year = up["year"]
                continue
            up = {"years": (up["year"], up["year"])}
        if "years" in up and c.year_from is None and c.year_to is None:
            c.year_from, c.year_to = up["years"]
        for key in ("min_rating", "max_runtime", "min_runtime"):
            if key in up and getattr(c, key) is None:
                setattr(c, key, up[key])
        if n is None and "n" in up:
            n = up["n"]
    for sp in spans:
        if sp.kind in ("genre", "language") and getattr(c, sp.kind) is None:
            setattr(c, sp.kind, sp.value)
    marks: dict[int, tuple[int, str]] = {sp.start: (sp.end, sp.kind) for sp in spans}
    for _, masks in placed:
        marks.update({s: (e, kind) for s, e, kind in masks or ()})
    words, i = [], 0
    while i < len(tokens):
        if i in marks:
            end, kind = marks[i]
            words.append(PLACEHOLDER[kind])
            i = max(end, i + 1)
        else:
            words.append(tokens[i])
            i += 1
    covered = {j for i, (end, _) in marks.items() for j in range(i, max(end, i + 1))}
    residual = _residual(question, tokens, aligned, covered, common) if aligned and common else None
    return Tagged(question, tokens, spans, c, n, " ".join(words), years, residual)


def _residual(question: str, tokens: list[str], aligned, covered: set[int], common: frozenset[str]) -> str | None:
    """The longest run of words that are neither template words nor tagged, with a leading article ("who directed
    the silent harbor" → "the silent harbor"): what a lower-case title the catalog lacks leaves behind."""
    runs, i = [], 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and j not in covered and (tokens[j] not in common or (
                tokens[j] in CONNECT and j > i and j + 1 < len(tokens) and tokens[j + 1] not in common)):
            j += 1
        if j > i:
            runs.append((i, j))
        i = j + 1
    if not runs:
        return None
    i, j = max(runs, key=lambda r: (r[1] - r[0], -r[0]))
    if i > 0 and tokens[i - 1] in ("the", "a", "an") and i - 1 not in covered:
        i -= 1
    return question[aligned[i][1]:aligned[j - 1][2]]


def _bound_film(films: list[Span], masks: list, tokens: list[str]) -> Span | None:
    s, e, _ = masks[0]
    for film in films:
        if s == film.end or e == film.start or (s == film.end + 1 and tokens[film.end] in ("from", "of")):
            return film
    return None


