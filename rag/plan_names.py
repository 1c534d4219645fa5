"""Names in a question that the linker did not link, or linked only in part: capitalised runs ("Oppenheimer"),
sequels past a linked title ("Jaws 5", "Top Gun: Maverick"), titles made of catalog titles ("Anatomy of a Fall"),
and, in lower-case questions, the unlinked words around a linked title ("the boy and the heron"). A name is what a
film or person the catalog lacks looks like; the planner passes it on, and the executor says it is not there."""
from __future__ import annotations

import re

from core.records import normalize
from rag.plan_spans import CONNECT, GENERIC, OPENERS, ROMAN, TITLE_WORDS, Span, Vocabulary


def name_spans(question: str, aligned, spans: list[Span], covered: set[int], vocab: Vocabulary,
                common: frozenset[str]) -> list[Span]:
    """Capitalised runs nothing linked ("Oppenheimer", "Top Gun: Maverick" past a linked "Top Gun") → names."""
    taken = {i for sp in spans for i in range(sp.start, sp.end)} | covered
    caps = [i not in taken and question[s:e][:1].isupper() and (i > 0 or normalize(question[s:e]) not in OPENERS)
            for i, (_, s, e) in enumerate(aligned)]
    runs, i = [], 0
    while i < len(aligned):
        if not caps[i]:
            i += 1
            continue
        j = i + 1
        while j < len(aligned) and (caps[j] or (aligned[j][0] in CONNECT and j + 1 < len(aligned) and caps[j + 1]
                                                 and j not in taken)):
            j += 1
        if not all(aligned[k][0] in OPENERS or aligned[k][0] in CONNECT or aligned[k][0] in GENERIC
                   or aligned[k][0] in common for k in range(i, j)):
            runs.append((i, j))
        i = j
    out = []
    for sp in spans:
        tail = next((r for r in runs if r[0] == sp.end), None)
        gap = question[aligned[sp.end - 1][2]:aligned[tail[0]][1]] if tail else ""
        sequel = sp.end < len(aligned) and sp.end not in taken - covered and _sequel(aligned[sp.end][0])
        if sp.kind == "film" and (tail and re.fullmatch(r"\s*[:\-–]\s*", gap) or sequel):
            end = tail[1] if tail else sp.end + 1
            runs = [r for r in runs if r != tail]
            out.append(Span(sp.start, end, "name", question[aligned[sp.start][1]:aligned[end - 1][2]]))
        else:
            out.append(sp)
    for i, j in runs:
        if i == 0 and j == 1:
            continue  # one capitalised word opening the question is no evidence of a name ("Shw me ...")
        rows = vocab.surnames.get(aligned[i][0]) if j == i + 1 else None  # "Kubrick" → Stanley Kubrick
        raw = question[aligned[i][1]:aligned[j - 1][2]]
        out.append(Span(i, j, "person", rows) if rows else Span(i, j, "name", raw))
    return sorted(out, key=lambda sp: sp.start)


def join_titles(question: str, aligned, spans: list[Span]) -> list[Span]:
    """A title the catalog lacks but whose words are titles it has ("Anatomy of a Fall": "Anatomy", "Fall"; "The
    Boy and the Heron": "The Boy" + "Heron") is one name: capitalised films and names joined by small words."""
    out: list[Span] = []
    for sp in spans:
        prev = out[-1] if out else None
        if prev is not None and _joinable(question, aligned, prev, sp):
            out[-1] = Span(prev.start, sp.end, "name", question[aligned[prev.start][1]:aligned[sp.end - 1][2]])
        else:
            out.append(sp)
    return out


def extend_title(question: str, aligned, sp: Span, spans: list[Span], covered: set[int],
                 common: frozenset[str]) -> Span:
    """In a lower-case question, a linked title inside unlinked words that are no template words is part of a
    title the catalog lacks: "the boy and the heron", "a complete unknown"."""
    if sp.kind != "film":
        return sp
    taken = {i for o in spans if o is not sp for i in range(o.start, o.end)} | covered
    def free(i: int) -> bool:
        return 0 <= i < len(aligned) and i not in taken

    start, end = sp.start, sp.end
    while True:
        j = end
        while free(j) and aligned[j][0] in TITLE_WORDS:
            j += 1
        if not (free(j) and aligned[j][0] not in common):
            break
        while free(j) and aligned[j][0] not in common:
            j += 1
        end = j
    while free(start - 1) and aligned[start - 1][0] not in common:
        start -= 1
    if (start, end) == (sp.start, sp.end):
        return sp
    if start > 0 and aligned[start - 1][0] in ("the", "a", "an") and free(start - 1):
        start -= 1
    return Span(start, end, "name", question[aligned[start][1]:aligned[end - 1][2]])


def _joinable(question: str, aligned, a: Span, b: Span) -> bool:
    if a.kind not in ("film", "name") or b.kind not in ("film", "name") or a.start < 0 or b.start < 0:
        return False
    between = [aligned[i][0] for i in range(a.end, b.start)]
    gap = question[aligned[a.end - 1][2]:aligned[b.start][1]]
    first = question[aligned[b.start][1]:aligned[b.start][2]]
    if not first[:1].isupper() or not all(w in TITLE_WORDS for w in between) or re.search(r"[,;?!/]", gap):
        return False
    if "name" in (a.kind, b.kind) or (not between and re.fullmatch(r"\s*[:\-–]\s*", gap)):
        return True  # a name inside, or a subtitle: "Top Gun: Maverick" when "Top Gun" and "Maverick" both link
    return bool(between) and not {"and", "or"} & set(between)  # "Jaws and Inception" are two films


def _sequel(token: str) -> bool:
    return token in ROMAN or (token.isdigit() and 0 < int(token) <= 20)
