"""Film facts movie catalogs often lack (composer, producer, budget …), so a question about one is answered with
what the catalog lacks rather than with a look-alike fact.

Each entry is the plain-English name of a field and the words that ask for it. The words are unambiguous on
purpose ("score" is left out: it also means a rating). A field counts as held when the catalog has an extra
column of that name (vega_movies.json has Production_Budget and Distributor, for example), and then the
question takes the normal retrieval path, which finds the card's extra field.
"""
from __future__ import annotations

from core.records import normalize

UNHELD_FIELDS: dict[str, tuple[str, ...]] = {  # what the catalog lacks, as said → the words asking for it
    "composer credits": ("composer", "composed", "soundtrack", "film score", "musical score", "music by",
                         "the music for", "the music of", "the music in", "did the music", "wrote the music"),
    "producer credits": ("producer", "producers", "produced", "executive producer"),
    "cinematographer credits": ("cinematographer", "cinematography", "director of photography"),
    "editor credits": ("film editor", "editor", "edited"),
    "budgets": ("budget", "cost to make", "production budget"),
    "box-office figures": ("box office", "gross", "grossed", "revenue", "earned"),
    "awards": ("oscar", "oscars", "academy award", "academy awards", "award", "awards", "nominated"),
    "filming locations": ("filming location", "filming locations", "shot on location"),  # "filmed in" = language
    "costume credits": ("costume designer", "costumes"),
    "studio names": ("studio", "production company"),
    "distributors": ("distributor", "distributed"),
}
_HELD_AS = {"box-office figures": ("gross", "revenue"), "budgets": ("budget",), "distributors": ("distributor",),
            "awards": ("award",)}  # extra columns that hold a field (vega: US_Gross, Production_Budget, Distributor)

def asked_unheld_field(question: str, topic_names: list[str], held_fields: set[str]) -> str | None:
    """The field the question asks about that the catalog does not hold, or None.

    Args:
        question: the question text.
        topic_names: names the planner linked (a title such as "The Producers" does not ask for a producer).
        held_fields: the catalog's field names, normalised ("us gross", "distributor" …).
    """
    text = f" {normalize(question)} "
    for name in topic_names:
        text = text.replace(f" {normalize(name)} ", "  ")
    for field, words in UNHELD_FIELDS.items():
        held_as = _HELD_AS.get(field, (field.split()[0],))
        if any(f" {w} " in text for w in words) and not any(h in held for h in held_as for held in held_fields):
            return field
    return None
