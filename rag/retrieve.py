"""Hybrid retrieval: dense FAISS + bm25s fused by reciprocal rank fusion, with title and person linking.

A question that names a film (or a person) present in the index gets that film's card (or that person's
card) pinned first, found by exact n-gram lookup of normalised names, else by fuzzy match (rapidfuzz) against
the cards the search surfaced. Remakes that share a title are told apart by a year in the question.
With settings.retrieval.hops = 2, the cards a linked card names follow it ("hop-link"): a person card's films, a film
card's people, so "who directed the films starring X?" sees X's card and then those films' cards.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from core.config import Settings
from core.records import Passage, PassageKind, Stage, normalize
from index.store import MovieIndex

_LINKS = {PassageKind.CARD: Stage.TITLE_LINK, PassageKind.PERSON: Stage.PERSON_LINK,
          PassageKind.TAG: Stage.TAG_LINK}  # passage kind → the stage of a hit linked by its name
_TOPICAL = re.compile(r"\b(about|describ\w*|tag\w*|words?|topics?|themes?)\b", re.I)  # tag cards first
_YEAR = re.compile(r"^(18[89]\d|19\d\d|20[0-4]\d)$")
_ARTICLES = ("the", "a", "an")
# Words of question templates ("who directed the movie X?"): a title made only of these is never linked.
GENERIC_WORDS = frozenset("""
a an the and or of in on at to for by with from as is was were are be been did does do done has have had
what which who whom whose when where why how that this these those it its there any some can could would
you me my i tell give list name show few words word describe described describing description about
movie movies film films picture pictures flick directed director directors direct directing wrote written
writer writers write screenplay story star starred starring stars actor actors actress acted act acting
appear appears appeared appearing cast genre genres type kind sort year years release released date
language languages spoken primary main rating rated rate ratings people think popular popularity famous
good listed person same also both other creator script screenwriter scriptwriter author topics topic terms
applicable under
""".split())


@dataclass
class Hit:
    passage: Passage
    score: float  # RRF score for fused stages; match similarity 0-1 for link stages
    stage: Stage


@dataclass
class Retrieval:
    hits: list[Hit]
    best_dense: float  # best dense cosine among (filtered) candidates; 0.0 when none; nan when dense was skipped
    linked: bool  # a title or person in the question was linked to a card
    dense: dict[int, float] = field(default_factory=dict, repr=False)  # passage row → cosine, for callers


@dataclass
class _Link:
    start: int  # token span in the normalised question
    end: int
    stage: Stage  # TITLE_LINK, PERSON_LINK or TAG_LINK: which name table matched
    rows: list[int]  # card rows (several for remakes)
    score: float = 1.0


class Retriever:
    """Hybrid search over one index: dense + BM25 fused by RRF, linked title/person/tag cards pinned first.

    Args:
        index: the MovieIndex to search.
        embedder: the SentenceTransformer the index was built with (encodes the questions).
        settings: `settings.retrieval` (k, candidates, rrf_k, linking and hop options).
    """

    def __init__(self, index: MovieIndex, embedder, settings: Settings) -> None:
        self.index, self.embedder, self.settings = index, embedder, settings
        # link stage → normalised name → card rows (titles also under their article-less variant)
        self.tables: dict[Stage, dict[str, list[int]]] = {stage: {} for stage in _LINKS.values()}
        for row, p in enumerate(index.passages):
            if p.kind not in _LINKS:
                continue
            table = self.tables[_LINKS[p.kind]]
            name = normalize(p.title)
            if not name:
                continue
            table.setdefault(name, []).append(row)
            words = name.split()
            if p.kind == PassageKind.CARD and words[0] in _ARTICLES and len(words) > 2:
                table.setdefault(" ".join(words[1:]), []).append(row)
        self.max_ngram = max((len(n.split()) for t in self.tables.values() for n in t), default=1)
        self.max_ngram = min(self.max_ngram, 16)

    # ------------------------------------------------------------ public

    def search(self, question: str, k: int | None = None, years: tuple | None = None,
               genres: list[str] | None = None) -> Retrieval:
        """One question's passages: `search_batch([question], ...)[0]`."""
        return self.search_batch([question], k=k, years=years, genres=genres)[0]

    def search_batch(self, questions: list[str], k: int | None = None, years: tuple | None = None,
                     genres: list[str] | None = None) -> list[Retrieval]:
        """The passages for each question, with dense encoding and FAISS search batched over all of them.

        Args:
            questions: the question texts.
            k: passages per question (default settings.retrieval.k).
            years: (from, to) release years, either end None; only film passages in range are kept.
            genres: keep only film passages with any of these genres (case-insensitive).

        Returns:
            One Retrieval per question, in order: up to k hits, linked cards first, each with its stage (with
            hops = 2, the cards they name may add more); the best dense cosine (for abstention); whether a name
            in the question was linked.
        """
        k = k or self.settings.retrieval.k
        if not questions:
            return []
        if len(self.index) == 0:
            return [Retrieval([], 0.0, False) for _ in questions]
        filtered = bool(years or genres)
        n_cand = self.settings.retrieval.candidates * (10 if filtered else 1)
        keep = lambda row: self._passes(row, years, genres)
        # Exact links first: with settings.retrieval.lazy_dense a linked question skips query encoding and FAISS.
        exact = [self.link(q) for q in questions]
        todo = [i for i, links in enumerate(exact) if not (self.settings.retrieval.lazy_dense and links)]
        dense: dict[int, list[tuple[int, float]]] = {}
        if todo:
            vectors = self.embedder.encode([questions[i] for i in todo], normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False, batch_size=len(todo))
            d_scores, d_ids = self.index.dense_search(np.asarray(vectors, dtype=np.float32), n_cand)
            for j, i in enumerate(todo):
                dense[i] = [(int(r), float(s)) for r, s in zip(d_ids[j], d_scores[j]) if r >= 0 and keep(int(r))]
        b_scores, b_ids = self.index.bm25_search(list(questions), n_cand)
        out = []
        for i, question in enumerate(questions):
            sparse = [int(r) for r in b_ids[i] if r >= 0 and keep(int(r))]
            retrieval = self._combine(question, dense.get(i), sparse, k, years, genres, exact[i])
            out.append(self._second_hop(retrieval, years, genres) if self.settings.retrieval.hops >= 2 else retrieval)
        return out

    def link(self, question: str, candidates: list[int] = ()) -> list[_Link]:
        """Titles, people and (in topical questions) tags named in the question.

        Args:
            question: the question text.
            candidates: card rows to match fuzzily when no exact n-gram of the question names a card.

        Returns:
            The links (token span, stage, card rows, score), best first; a year in the question narrows a
            remake's rows to that year's version.
        """
        tokens = normalize(question).split()
        links = self._exact_links(tokens, question)
        if not links and candidates:
            links = self._fuzzy_links(" ".join(tokens), candidates)
        year = self._question_year(tokens, links)
        for link in links:  # remakes: a year in the question picks the matching version
            if link.stage == Stage.TITLE_LINK and year is not None and len(link.rows) > 1:
                same = [r for r in link.rows if self.index.passages[r].year == year]
                link.rows = same or link.rows
        return links

    # ------------------------------------------------------------ internals

    def _passes(self, row: int, years: tuple | None, genres: list[str] | None) -> bool:
        """Filters apply to film passages; person cards pass only when linked (checked by the caller)."""
        if not years and not genres:
            return True
        p = self.index.passages[row]
        if p.movie_id is None:
            return False
        if years:
            lo, hi = years
            if p.year is None or (lo is not None and p.year < lo) or (hi is not None and p.year > hi):
                return False
        if genres:
            wanted = {g.strip().lower() for g in genres if g.strip()}
            if wanted and not wanted & {g.lower() for g in p.genres}:
                return False
        return True

    def _combine(self, question: str, dense: list[tuple[int, float]] | None, sparse: list[int], k: int,
                 years: tuple | None, genres: list[str] | None, links: list[_Link] | None = None) -> Retrieval:
        """Linked cards first, then the RRF fusion of dense and BM25; dense None = dense search skipped."""
        skipped, dense = dense is None, dense or []
        rrf_k = self.settings.retrieval.rrf_k
        fused: dict[int, float] = {}
        for rank, (row, _) in enumerate(dense, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (rrf_k + rank)
        for rank, row in enumerate(sparse, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (rrf_k + rank)
        in_dense, in_sparse = {r for r, _ in dense}, set(sparse)
        order = sorted(fused, key=lambda r: -fused[r])

        if not links:
            links = self.link(question, [r for r in order if self.index.passages[r].kind in _LINKS])
        hits: list[Hit] = []
        seen: set[int] = set()
        rank = {Stage.TITLE_LINK: 0, Stage.PERSON_LINK: 1, Stage.TAG_LINK: 0 if _TOPICAL.search(question) else 2}
        for link in sorted(links, key=lambda lk: rank[lk.stage]):  # stable: best match first within a kind
            rows = [r for r in link.rows if link.stage != Stage.TITLE_LINK or self._passes(r, years, genres)]
            for row in sorted(rows, key=lambda r: -fused.get(r, 0.0)):
                if row not in seen and len(seen) < min(k, self.settings.retrieval.max_links):
                    seen.add(row)
                    hits.append(Hit(self.index.passages[row], link.score, link.stage))
        for row in order:
            if len(hits) >= k:
                break
            if row in seen:
                continue
            seen.add(row)
            stage = (Stage.HYBRID if row in in_sparse else Stage.DENSE) if row in in_dense else Stage.BM25
            hits.append(Hit(self.index.passages[row], fused[row], stage))
        best = float("nan") if skipped else max((s for _, s in dense), default=0.0)
        return Retrieval(hits, float(best), bool(hits and any(h.stage.is_link for h in hits)),
                         dense=dict(dense))

    def _second_hop(self, retrieval: Retrieval, years: tuple | None, genres: list[str] | None) -> Retrieval:
        """The cards named by the linked cards, pinned right after them: films of a linked person (or tag),
        people of a linked film, in the order the card names them, up to settings.retrieval.hop_cards."""
        linked = [h for h in retrieval.hits if h.stage.is_link]
        if not linked:
            return retrieval
        keys = {h.passage.key for h in linked}  # a fused hit named by a linked card moves up as a hop
        hops: list[Hit] = []
        for hit in linked:
            wanted = Stage.PERSON_LINK if hit.passage.kind == PassageKind.CARD else Stage.TITLE_LINK
            text = hit.passage.text
            for link in sorted(self._exact_links(normalize(text).split(), text), key=lambda lk: lk.start):
                if link.stage != wanted:
                    continue
                rows = [r for r in link.rows if wanted != Stage.TITLE_LINK or self._passes(r, years, genres)]
                named = [r for r in rows if f"({self.index.passages[r].year})" in text] or rows[:1]  # remakes
                for row in named:
                    p = self.index.passages[row]
                    if p.key not in keys and len(hops) < self.settings.retrieval.hop_cards:
                        keys.add(p.key)
                        hops.append(Hit(p, hit.score, Stage.HOP_LINK))
        others = [h for h in retrieval.hits if not h.stage.is_link and h.passage.key not in keys]
        hits = (linked + hops + others)[:max(len(retrieval.hits), len(linked) + len(hops))]
        return Retrieval(hits, retrieval.best_dense, True, dense=retrieval.dense)

    def _exact_links(self, tokens: list[str], question: str) -> list[_Link]:
        found: list[_Link] = []
        topical = bool(_TOPICAL.search(question))
        for i in range(len(tokens)):
            for n in range(min(self.max_ngram, len(tokens) - i), 0, -1):
                words = tokens[i:i + n]
                key = " ".join(words)
                weak = len(key) <= 2 or all(w in GENERIC_WORDS for w in words)  # "M", "Up", "It", "Her"
                for stage, table in self.tables.items():
                    if stage == Stage.TAG_LINK and not topical:
                        continue  # tags ("love", "war", "shark") link only in topical questions
                    if key in table and (not weak or self._written_as_name(question, table[key], topical)):
                        found.append(_Link(i, i + n, stage, list(table[key])))
        # Spans with more content words win, then spans written exactly as the name ("Hell" over "In Hell" in
        # "spoken in Hell"), then longer ones; a name inside a winner ("Morrison" in "Temuera Morrison") is
        # dropped. Names with the very same span (a film, a person, a tag) are all kept.
        def rank(link: _Link) -> tuple:
            content = sum(w not in GENERIC_WORDS for w in tokens[link.start:link.end])
            exact = any(self.index.passages[r].title in question for r in link.rows[:3])
            return -content, not exact, -(link.end - link.start), link.start

        found.sort(key=rank)
        if len(found) > 1:  # "Scarface 1983": a bare year is a year, not the film "1983"
            found = [f for f in found if not (f.end - f.start == 1 and _YEAR.match(tokens[f.start]))] or found
        kept: list[_Link] = []
        for link in found:
            clash = [o for o in kept if link.start < o.end and o.start < link.end]
            if all(o.start == link.start and o.end == link.end for o in clash):
                kept.append(link)
        return kept

    def _fuzzy_links(self, question: str, candidates: list[int]) -> list[_Link]:
        cutoff = self.settings.retrieval.fuzzy_threshold
        best: _Link | None = None
        for row in candidates:
            p = self.index.passages[row]
            name = normalize(p.title)
            if p.kind == PassageKind.TAG or len(name) < 5 or all(w in GENERIC_WORDS for w in name.split()):
                continue  # short names match anything fuzzily
            score = fuzz.partial_ratio(name, question, score_cutoff=cutoff)
            if score and (best is None or score > best.score * 100):
                stage = _LINKS[p.kind]
                best = _Link(-1, -1, stage, list(self.tables[stage].get(name, [row])), score / 100.0)
        return [best] if best else []

    def _written_as_name(self, question: str, rows: list[int], topical: bool = False) -> bool:
        """Very short or generic names link only when written exactly as the name, not first in the question
        (lower-case names such as tags only in topical questions: "which films are about dc?")."""
        for title in {self.index.passages[r].title.strip() for r in rows}:
            if title[:1].islower() and not topical:
                continue
            for m in re.finditer(rf"(?<![\w'’]){re.escape(title)}(?![\w'’])", question):
                if m.start() > 0:
                    return True
        return False

    @staticmethod
    def _question_year(tokens: list[str], links: list[_Link]) -> int | None:
        """A four-digit year in the question that is not part of a linked title ("1917", "2001 ...")."""
        inside = {i for link in links if link.start >= 0 for i in range(link.start, link.end)}
        for i, tok in enumerate(tokens):
            if i not in inside and _YEAR.match(tok):
                return int(tok)
        return None
