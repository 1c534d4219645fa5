"""The grounding check of open answers: names and numbers a text states that its passages lack."""
from __future__ import annotations

from rag.support import claims, unsupported_claims

CARD = "Parasite (2019). Directed by Bong Joon-ho. Starring Song Kang-ho, Lee Sun-kyun."
PLOT = "Parasite (2019): All unemployed, Ki-taek's family takes interest in the wealthy Parks."


def test_claims_are_names_and_numbers_not_sentence_openers():
    text = ("Parasite (2019) is a comedy film directed by Bong Joon-ho, starring Song Kang-ho and Lee Sun-kyun. "
            "After the war, Ki-taek's family meets The Lord of the Rings fans.")
    assert claims(text) == ["2019", "Parasite", "Bong Joon-ho", "Song Kang-ho", "Lee Sun-kyun", "Ki-taek",
                            "Lord of the Rings"]


def test_a_grounded_text_has_no_unsupported_claims():
    text = "Parasite (2019) is a film by Bong Joon-ho, starring Song Kang-ho. All unemployed, Ki-taek's family …"
    assert unsupported_claims(text, [CARD, PLOT]) == []


def test_an_invented_name_or_number_is_caught():
    text = "Parasite (2018) is a film by Bong Joon-ho, starring Choi Woo-shik."
    assert unsupported_claims(text, [CARD, PLOT]) == ["2018", "Choi Woo-shik"]


def test_a_name_must_appear_whole_and_in_order():
    assert unsupported_claims("It stars Kang-ho Song.", [CARD]) == ["Kang-ho Song"]
    assert unsupported_claims("Starring Song Kang-ho.", [CARD]) == []  # an ordinary word opening the sentence
    assert unsupported_claims("Starring Kang-ho Song.", [CARD]) == ["Starring Kang-ho Song"]


def test_possessives_ordinals_and_decades_match_as_written():
    passage = "The Brink's Job (1978): in the '30s, the 7th crew robs a truck."
    text = "The Brink's Job (1978) is set in the '30s; the 7th crew robs a truck."
    assert unsupported_claims(text, [passage]) == []
    assert claims(text) == ["1978", "30s", "7th", "Brink's Job"]
    assert unsupported_claims("The 8th crew of Brink's Heist.", [passage]) == ["8th", "Brink's Heist"]
