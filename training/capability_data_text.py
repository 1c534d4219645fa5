"""The phrasing groups of the capability evaluation sets (training.capability_data) and the text helpers that turn
independently written film descriptions into identify questions.

Every capability has five phrasing groups. The group named in HELD_OUT is written only into the test split, so a
model trained on the train split never sees its phrasings; its templates were also chosen unlike the planner's
(training.plan_phrases_ops), so a test on it measures phrasings no training saw.

Slots: {d} a description clause starting lower-case, {D} the same as a sentence, {t} a film title, {c} a
recommendation constraint phrase (may be empty), {gnoun} a genre as a noun ("comedy", "horror film"), {film} the
film as an abstain question names it, and the off-topic slots of OFF_SLOTS.
"""
from __future__ import annotations

import re

from core.records import normalize

HELD_OUT = {"identify": "placing", "describe": "brief", "recommend": "fans", "abstain": "aside"}

IDENTIFY: dict[str, list[str]] = {
    "where": ["What's the movie where {d}?", "What is the film where {d}?", "Which movie has a story where {d}?",
              "what's the film in which {d}"],
    "about": ["Which film is about how {d}?", "What movie is about how {d}?", "Which film is the one where {d}?",
              "which movie is about how {d}"],
    "remember": ["I'm trying to remember a movie where {d}. What's it called?",
                 "There's a film in which {d} - what's the title?", "I forgot the name of a movie where {d}.",
                 "i can't remember the name of the film where {d}"],
    "plot-first": ["{D}. Which film is this?", "{D} - what movie is that?", "{D}. Name the movie.",
                   "{D}... which film?"],
    "placing": ["Help me place a film: {d}.", "Which title fits this plot: {d}?",
                "Can you put a name to a film where {d}?", "Plot hunt: {d}. Title?"],
}
DESCRIBE: dict[str, list[str]] = {
    "tell": ["Tell me about {t}.", "Can you tell me about {t}?", "Tell me about the film {t}.", "tell me about {t}"],
    "about": ["What is {t} about?", "What's the movie {t} about?", "what's {t} about", "What is the film {t} about?"],
    "plot": ["What happens in {t}?", "What is the plot of {t}?", "Give me a short summary of {t}.",
             "whats the story of {t}"],
    "describe": ["Describe the movie {t}.", "Could you describe {t} for me?", "Give me an overview of {t}.",
                 "describe {t}"],
    "brief": ["Fill me in on {t}.", "Brief me on the film {t}, please.", "I'm about to watch {t}; what's the premise?",
              "before i see {t}, what is it like"],
}
RECOMMEND: dict[str, list[str]] = {  # a template with {gnoun} carries a genre constraint itself
    "like": ["Films like {t}{c}.", "Movies like {t}{c}?", "A {gnoun} like {t}?", "any movies like {t}{c}"],
    "similar": ["Can you recommend films similar to {t}{c}?", "Suggest some movies similar to {t}{c}.",
                "Recommend a {gnoun} similar to {t}.", "recommend something similar to {t}{c}"],
    "liked": ["I loved {t}. What should I watch next{c}?", "If I liked {t}, what else would I enjoy{c}?",
              "I enjoyed {t}; is there a {gnoun} I'd like too?", "liked {t}, what else should i see{c}"],
    "more": ["Something like {t}{c}, please.", "More films in the vein of {t}{c}?", "what else is like {t}{c}",
             "Give me more movies like {t}{c}."],
    "fans": ["My favourite film is {t}. Point me to others in that spirit{c}.", "Build me a watchlist around {t}{c}.",
             "People who enjoy {t} should try which films{c}?", "Which {gnoun} would a fan of {t} enjoy?"],
}
CONSTRAINT_PHRASES: dict[str, list[str]] = {  # {year}: the topic film's year
    "older": [" but older", " from before {year}", " made before {year}", " that is older"],
    "newer": [" but newer", " from after {year}", " released after {year}", " that is more recent"],
    "genre": [" but a {gnoun}", " that is a {gnoun}", " in the {gname} genre"],
}
GENRE_NOUNS = {"Action": "action film", "Adventure": "adventure film", "Animation": "animated film",
               "Comedy": "comedy", "Crime": "crime film", "Documentary": "documentary", "Drama": "drama",
               "Family": "family film", "Fantasy": "fantasy film", "Horror": "horror film", "Mystery": "mystery",
               "Romance": "romance", "Science Fiction": "science fiction film", "Sci-Fi": "sci-fi film",
               "Thriller": "thriller", "War": "war film", "Western": "western", "Musical": "musical"}

# ---------------------------------------------------------------- abstain: film questions, fields, off-topic
# Film questions are (template, relation): for the control group the relation says what the gold answer is.
ABSTAIN_FILM: dict[str, list[tuple[str, str]]] = {
    "direct": [("Who directed {film}?", "director"), ("What year did {film} come out?", "year"),
               ("Who starred in {film}?", "actor"), ("What genre is {film}?", "genre")],
    "request": [("Tell me who directed {film}.", "director"), ("Give me the cast of {film}.", "actor"),
                ("Please tell me when {film} was released.", "year"), ("Tell me what {film} is about.", "plot")],
    "casual": [("who made {film}", "director"), ("{film} cast?", "actor"), ("{film} release year", "year"),
               ("what kind of movie is {film}", "genre")],
    "written": [("Who was the director of {film}?", "director"), ("Which actors appear in {film}?", "actor"),
                ("In which year was {film} released?", "year"), ("What is the plot of {film}?", "plot")],
    "aside": [("My friend keeps talking about {film}; who is in it?", "actor"),
              ("I just saw a poster for {film}. Who directed it?", "director"),
              ("Settle a bet: what year did {film} come out?", "year"),
              ("Someone mentioned {film} at work - what genre is it?", "genre")],
}
ABSTAIN_FIELD: dict[str, list[tuple[str, str]]] = {  # (template, field asked); {film}: a film the catalog has
    "direct": [("Who composed the score for {film}?", "composer"), ("What was the budget of {film}?", "budget"),
               ("How much did {film} make at the box office?", "box office"),
               ("Where was {film} filmed?", "filming location")],
    "request": [("Tell me who produced {film}.", "producer"), ("Give me the box office gross of {film}.", "box office"),
                ("Name the cinematographer of {film}.", "cinematographer"),
                ("List the songs on the soundtrack of {film}.", "soundtrack")],
    "casual": [("{film} budget?", "budget"), ("{film} soundtrack", "soundtrack"),
               ("who did the music for {film}", "composer"), ("{film} box office", "box office")],
    "written": [("Who was the film editor of {film}?", "editor"), ("Which studio produced {film}?", "studio"),
                ("What awards did {film} win?", "awards"), ("Who designed the costumes for {film}?", "costume")],
    "aside": [("I loved the music in {film}. Who composed it?", "composer"),
              ("Settle a bet: what did {film} cost to make?", "budget"),
              ("Planning a trip: where was {film} shot on location?", "filming location"),
              ("Curious: how much did {film} gross?", "box office")],
}
OFF_TOPIC: dict[str, list[str]] = {
    "direct": ["What is the capital of {country}?", "What is {a} times {b}?", "Who won the {year} {event}?",
               "How many calories are in {dish}?"],
    "request": ["Give me a recipe for {dish}.", "Tell me the population of {country}.",
                "Explain how {thing} works.", "Please add {a} and {b}."],
    "casual": ["capital of {country}?", "{a} + {b} = ?", "{event} {year} winner", "how to make {dish}"],
    "written": ["Which currency is used in {country}?", "What is the square root of {square}?",
                "Who invented {thing}?", "Which team won the {year} {event}?"],
    "aside": ["Settle a bet: what is the capital of {country}?", "Quick one before the film: what's {a} times {b}?",
              "I'm cooking tonight - how long should {dish} bake?", "My kid asked me how {thing} works. Any idea?"],
}
OFF_SLOTS: dict[str, list[str]] = {
    "country": ["France", "Peru", "Kenya", "Norway", "Vietnam", "Canada", "Egypt", "Chile", "Poland", "Japan",
                "Morocco", "Portugal", "Ghana", "Nepal", "Uruguay", "Finland"],
    "dish": ["banana bread", "lasagna", "a sourdough loaf", "shepherd's pie", "pad thai", "a cheesecake",
             "tomato soup", "chicken curry", "focaccia", "apple crumble"],
    "thing": ["a jet engine", "the internet", "a refrigerator", "photosynthesis", "a vaccine", "a microwave oven",
              "GPS", "a solar panel", "the telephone", "a bicycle gear"],
    "event": ["World Cup", "Super Bowl", "Tour de France", "Champions League final", "Wimbledon men's final",
              "Stanley Cup"],
    "year": [str(y) for y in range(1994, 2022, 3)], "a": [str(x) for x in (7, 12, 17, 23, 38, 46, 59)],
    "b": [str(x) for x in (3, 8, 14, 19, 27, 31)], "square": [str(x * x) for x in (12, 15, 21, 24, 33)],
}

# ---------------------------------------------------------------- description text → identify clauses

_CITATION = re.compile(r"\[\d+\]|\[citation needed\]")
_PARENS = re.compile(r"\s*\([^()]*\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
_ABBREVIATION = re.compile(r"(?:\b(?:U\.S|U\.K|Mr|Mrs|Ms|Dr|St|Jr|Sr|Lt|Sgt|Capt|Col|Gen|Prof|Mt|No|vs)|\b[A-Z])\.$")
LEADS = frozenset("""a an the in on at after before when while as his her their its this that these those he she
they it but and or so then there one two three four five six seven eight nine ten twelve twenty several some many
with from for during upon once following years set meanwhile now later soon shortly back
""".split())  # sentence-initial words that are not names: lower-cased when a sentence becomes a clause
_PRONOUNS = frozenset("he she they it his her their its him them".split())
_DANGLING = frozenset("a an the of to in on at with and or but for by from as his her their its that who which "
                      "is are was were be has have".split())  # a partial description does not end on these


def words(text: str) -> list[str]:
    """The matching words of a text (core.records.normalize, split)."""
    return normalize(text).split()


def shares_long_run(query: str, texts: list[str], max_run: int = 8) -> bool:
    """True when `query` shares a run of more than `max_run` consecutive words with one of `texts` (compared on
    normalize()d words: case, accents and punctuation do not hide a copy)."""
    q = words(query)
    n = max_run + 1
    if len(q) < n:
        return False
    grams = {tuple(q[i:i + n]) for i in range(len(q) - n + 1)}
    for text in texts:
        t = words(text)
        if any(tuple(t[i:i + n]) in grams for i in range(len(t) - n + 1)):
            return True
    return False


def mentions(text: str, title: str) -> bool:
    """The title occurs in the text as whole words (normalised); one-word titles of four letters or fewer
    ("Her", "Up", "It") are ordinary words, so they do not count."""
    t = normalize(title)
    if not t or (" " not in t and len(t) <= 4):
        return False
    return f" {t} " in f" {normalize(text)} "


def description_sentences(text: str, min_words: int = 8, max_words: int = 40, limit: int = 4) -> list[str]:
    """The first sentences of a description usable as a question's clause, in order (the opening sets up the
    premise): citation marks and parenthesised asides (actors' names in Wikipedia plots) removed, 8-40 words, not
    opening with a pronoun that refers back ("He escapes …"), at most `limit`."""
    text = _PARENS.sub("", _CITATION.sub("", text or ""))
    out = []
    for sentence in split_sentences(" ".join(text.split())):
        sentence = sentence.strip().rstrip(".!?;:").strip()
        first = sentence.split(" ", 1)[0].lower()
        if min_words <= len(sentence.split()) <= max_words and '"' not in sentence and first not in _PRONOUNS:
            out.append(sentence)
        if len(out) >= limit:
            break
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences, not split after an abbreviation or an initial ("U.S. Marines", "Dr. Smith", "John F. Kennedy")."""
    out: list[str] = []
    for piece in _SENTENCE.split(text):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def common_words(texts: list[str]) -> set[str]:
    """Words the texts write in lower case somewhere: a sentence's capitalised first word among them is not a
    name ("To punish the prince …", "Ten years later …"), one never written in lower case is ("Max lives …")."""
    return {w for text in texts for w in re.findall(r"\b[a-z][a-z'-]*\b", text)}


def as_clause(sentence: str, common: set[str] = LEADS) -> str:
    """A sentence as a clause after "the movie where": its first word lower-cased unless it is a name."""
    first, _, rest = sentence.partition(" ")
    if first.lower().strip(",") in common or first.lower().strip(",") in LEADS:
        first = first.lower()
    return f"{first} {rest}".strip()


def partial(clause: str, cut: int) -> str:
    """The clause cut to about `cut` words (at a comma when one comes earlier), not ending on a function word."""
    head = clause.split()[:cut]
    comma = next((i for i, w in enumerate(head) if w.endswith(",") and i >= 5), None)
    if comma is not None:
        head = head[:comma + 1]
    while head and head[-1].lower().strip(",;") in _DANGLING:
        head.pop()
    return " ".join(head).rstrip(",;")


def render(template: str, **slots: str) -> str:
    """A template filled in; {D} is the description as a sentence (first letter upper-case)."""
    d = slots.get("d", "")
    return template.format(**slots, D=d[:1].upper() + d[1:]).replace("  ", " ")
