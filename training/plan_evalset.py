"""Evaluation questions with gold answers computed from the catalog, for `rag eval` (JSONL, one file per split).

Types: lookup (one value), list (2-15 items), count, superlative (argmax/argmin/top-n), compare (which of two
named films is longer/better rated/...), check (yes/no, balanced) and not_in_catalog (real titles the catalog lacks,
such as later sequels and remakes, and catalog titles with a year no version has). Questions come from the template
groups of their split, so the test file asks in phrasings the planner never trained on. Gold answers are computed
by training.plan_kb, independently of the executor (rag.execute).
"""
from __future__ import annotations

import random
from collections import Counter

from core.records import Movie, normalize
from rag.plan import EntityKind, Op, Plan, parse_plan
from training.plan_generate import Pools, make_question
from training.plan_kb import MemoryCatalog
from training.plan_templates import Template

EVAL_TYPES: dict[str, tuple[str, ...]] = {
    "lookup": ("lookup > director", "lookup > writer", "lookup > year", "lookup > language", "lookup > genre",
               "lookup > runtime", "lookup > rating"),
    "list": ("lookup < director", "lookup < writer", "lookup < actor", "lookup < tag", "lookup > actor",
             "lookup > director < director", "lookup < actor > director", "lookup < director > actor", "lookup",
             "lookup > writer < writer"),
    "count": ("count < director", "count < actor", "count < writer", "count", "count > actor"),
    "superlative": tuple(f"{op} {start}> {f}" for op in ("argmax", "argmin", "top") for f in ("runtime", "rating",
                         "votes", "year") for start in ("all ", "< director ", "< actor ")),
    "compare": tuple(f"{op} > {f}" for op in ("argmax", "argmin") for f in ("runtime", "rating", "votes", "year")),
    "check": tuple(f"check > {r}" for r in ("director", "writer", "actor", "genre", "language", "year")),
    "not_in_catalog": ("lookup > director", "lookup > writer", "lookup > actor", "lookup > year", "lookup > genre",
                       "lookup > runtime", "lookup > rating"),
}
NOT_IN_CATALOG = "not in the catalog"
# Real films of 2017-2025 (sequels, remakes, new titles); those the catalogs hold are skipped when writing.
ABSENT_TITLES = """Oppenheimer|Barbie|Dune: Part Two|Top Gun: Maverick|Everything Everywhere All at Once|
The Banshees of Inisherin|Past Lives|Killers of the Flower Moon|Poor Things|Anatomy of a Fall|The Holdovers|
Maestro|The Zone of Interest|Saltburn|Asteroid City|May December|Nope|The Fabelmans|Women Talking|Aftersun|
Triangle of Sadness|Glass Onion: A Knives Out Mystery|Bullet Train|Licorice Pizza|The Power of the Dog|
Drive My Car|Belfast|Nomadland|Minari|Sound of Metal|Promising Young Woman|Jojo Rabbit|Marriage Story|
The Irishman|Knives Out|Ford v Ferrari|Uncut Gems|The Lighthouse|Midsommar|Once Upon a Time in Hollywood|
BlacKkKlansman|The Favourite|Hereditary|Eighth Grade|Lady Bird|Phantom Thread|Call Me by Your Name|
Three Billboards Outside Ebbing, Missouri|Blade Runner 2049|Mission: Impossible - Dead Reckoning Part One|
John Wick: Chapter 4|Guardians of the Galaxy Vol. 3|Spider-Man: Across the Spider-Verse|
Indiana Jones and the Dial of Destiny|Wonka|Napoleon|The Boy and the Heron|Godzilla Minus One|
Furiosa: A Mad Max Saga|Inside Out 2|Deadpool & Wolverine|Gladiator II|Wicked|Conclave|The Brutalist|Anora|
The Substance|Challengers|Civil War|Kinds of Kindness|A Complete Unknown|Emilia Pérez|Alien: Romulus|
Beetlejuice Beetlejuice|Joker: Folie à Deux|Twisters|Avatar: The Way of Water|Black Panther: Wakanda Forever|
Thor: Love and Thunder|Doctor Strange in the Multiverse of Madness|Jurassic World Dominion|Lightyear|
Turning Red|Encanto|Luca|Raya and the Last Dragon|Cruella|Shang-Chi and the Legend of the Ten Rings|
No Time to Die|The Matrix Resurrections|Spider-Man: No Way Home|Eternals|Free Guy|The Green Knight|Red Notice|
Don't Look Up|The Tragedy of Macbeth|Nightmare Alley|King Richard|Being the Ricardos|The Lost Daughter|
Spencer|Titane|The Worst Person in the World|Petite Maman|C'mon C'mon|Bergman Island|The French Dispatch|
Last Night in Soho|Tick, Tick... Boom!|The Northman|Decision to Leave|Bones and All|Babylon|Tár|Air|Elvis|
The Whale|Guillermo del Toro's Pinocchio|Puss in Boots: The Last Wish|Fast X|The Flash|Elemental|
Killers of the Flower Moon|Poor Things|Fallen Leaves|Perfect Days|The Taste of Things|Monster|Io Capitano|
Society of the Snow|Priscilla|Ferrari|Dream Scenario|The Iron Claw|Origin|American Fiction|Rustin|Nyad|
Leave the World Behind|Killer|The Killer|Mickey 17|Sinners|Thunderbolts*|Superman|Materialists|Weapons|F1|
Jurassic World Rebirth|The Fantastic Four: First Steps|28 Years Later|
Mission: Impossible - The Final Reckoning|Lilo & Stitch|How to Train Your Dragon|Snow White|A Minecraft Movie"""


def absent_titles(catalog: MemoryCatalog) -> list[str]:
    titles = [" ".join(t.split()) for t in ABSENT_TITLES.replace("\n", "").split("|")]
    return sorted({t for t in titles if not catalog.by_title.get(normalize(t))})


def gold_answers(plan: Plan, catalog: MemoryCatalog) -> list[str] | None:
    """The answers of a plan on the catalog; None when a topic is missing, a field is empty or a rank ties."""
    start = _start(plan, catalog)
    if start is None:
        return None
    film_topics = not plan.topics or plan.topics[0].kind == EntityKind.FILM
    ranked = plan.op in (Op.ARGMAX, Op.ARGMIN, Op.TOP)
    hops = plan.path[:-1] if ranked else plan.path
    nodes, exclude = start, set(start) if plan.topics and film_topics else set()
    for hop in hops:
        nodes = catalog.follow(nodes, hop)
        if hop.back:
            nodes = catalog.filter([f for f in nodes if f not in exclude], plan.constraints)
    if not hops and film_topics and plan.constraints:
        nodes = catalog.filter(nodes, plan.constraints)
    if not nodes:
        return None
    ends_in_films = hops[-1].back if hops else film_topics
    if plan.op == Op.COUNT:
        return [str(len(nodes))]
    if plan.op == Op.CHECK:
        return ["yes" if any(normalize(n) == normalize(plan.expect.name) for n in nodes) else "no"]
    if ranked:
        return _rank(plan, nodes, catalog)
    return _titles(catalog, nodes) if ends_in_films else list(dict.fromkeys(nodes))


def _start(plan: Plan, catalog: MemoryCatalog) -> list[str] | None:
    if not plan.topics:
        return list(catalog.films)
    out: list[str] = []
    for topic in plan.topics:
        found = catalog.films_named(topic.name, topic.year) if topic.kind == EntityKind.FILM else (
            [topic.name] if normalize(topic.name) in catalog.back[plan.path[0].rel] else [])
        if not found:
            return None
        out += [f for f in found if f not in out]
    return out


def _titles(catalog: MemoryCatalog, ids: list[str]) -> list[str]:
    return list(dict.fromkeys(catalog.films[i].title for i in ids))


def _rank(plan: Plan, films: list[str], catalog: MemoryCatalog) -> list[str] | None:
    numbers = catalog.numbers(films, plan.path[-1].rel)
    n = (plan.n or 5) if plan.op == Op.TOP else 1
    if len(numbers) < max(n + 1, 2):
        return None
    order = sorted(numbers, key=lambda f: numbers[f], reverse=plan.op != Op.ARGMIN)
    if numbers[order[n - 1]] == numbers[order[n]]:
        return None  # a tie at the cut: no single right answer
    return _titles(catalog, order[:n])


def _valid(kind: str, answers: list[str] | None, plan: Plan, seen_checks: Counter) -> bool:
    if not answers:
        return False
    if kind == "lookup":
        return len(answers) == 1
    if kind == "list":
        return 2 <= len(answers) <= 15
    if kind == "compare":
        return len(plan.topics) == 2
    if kind == "check":  # as many no as yes
        return seen_checks[answers[0]] <= seen_checks["yes" if answers[0] == "no" else "no"]
    return True


def eval_questions(pools: Pools, templates: list[Template], split_of: dict[str, str], split: str, per_type: int,
                   seed: int = 42) -> list[dict]:
    """`per_type` questions of every type from the `split` template groups, with gold answers."""
    rng = random.Random(f"{seed}-{split}")
    absent = absent_titles(pools.catalog)
    absent = [t for i, t in enumerate(absent) if (i % 2 == 0) == (split == "dev")]  # disjoint titles per split
    out = []
    for kind, labels in EVAL_TYPES.items():
        pool = [t for t in templates if t.label in labels and split_of[t.group] == split]
        seen: Counter = Counter()
        for _ in range(per_type * 300):
            if sum(seen.values()) >= per_type:
                break
            t = rng.choice(pool)
            film = _absent_film(pools, absent, rng) if kind == "not_in_catalog" else None
            item = make_question(t, pools, rng, split, film=film)
            plan = parse_plan(item["plan"])
            answers = [NOT_IN_CATALOG] if film is not None else gold_answers(plan, pools.catalog)
            if film is not None and not plan.topics or not _valid(kind, answers, plan, seen):
                continue
            seen[answers[0] if kind == "check" else "n"] += 1
            entity = next((e.name for e in plan.topics + ([plan.expect] if plan.expect else [])), None)
            out.append({"question": item["question"], "answers": answers, "type": kind, "entity": entity,
                        "plan": item["plan"], "label": item["label"], "group": item["group"], "split": split})
    return out


def _absent_film(pools: Pools, absent: list[str], rng: random.Random) -> Movie:
    """A title the catalog lacks, or (a third of the time) a catalog title with a year no version of it has."""
    if rng.random() < 2 / 3:
        return Movie(title=rng.choice(absent))
    while True:
        movie = rng.choice(pools.films)
        years = {pools.catalog.films[i].year for i in pools.catalog.films_named(movie.title)}
        if movie.year and pools.title_count[normalize(movie.title)] == 1:
            year = movie.year + rng.choice([-12, -7, -4, 3, 5, 9])
            if year not in years and year <= 2025:
                return Movie(title=movie.title, year=year)
