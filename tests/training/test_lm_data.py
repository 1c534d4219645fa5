"""training.lm_data: genre-conditioned plot continuation in the pipeline's plot prompt, films split, truecasing."""
from __future__ import annotations

import json
import random

import pytest

from core.config import Settings
from core.records import Movie
from rag.prompt import render_plot_prompt
from training.data import OPENINGS_FILE, PrepareConfig, load_prepared, prepare, read_meta, tokenize_example
from training.lm_data import KIND, Truecaser, film_split, genre_label, plot_examples, plot_windows, split_sentences

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
PLOT = ("A shark attacks a swimmer off Amity Island. The police chief wants to close the beaches. The mayor refuses, "
        "fearing for the summer trade. A second attack kills a boy. The chief, a biologist and a fisherman go hunting.")


@pytest.fixture(scope="module")
def base_tok(tiny_gpt2_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2_dir)


@pytest.fixture(scope="module")
def chat_tok(tiny_gpt2_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tok.chat_template = CHATML
    return tok


def _films(n: int = 40) -> list[Movie]:
    return [Movie(title=f"Shark {i}", year=1970 + i, genres=["Horror", "Thriller"], plot=PLOT) for i in range(n)]


@pytest.mark.parametrize("tok_name", ["base_tok", "chat_tok"])
def test_examples_use_the_plot_prompt_with_the_genre(request, tok_name):
    tok, settings = request.getfixturevalue(tok_name), Settings()
    examples, _ = plot_examples(_films(), tok, settings, max_length=256, source="fixture", val_share=0.2,
                                test_share=0.2, seed=1)
    assert examples and all(ex["kind"] == KIND for _, ex in examples)
    genres = set()
    for _, ex in examples:
        opening = ex["prompt"].rsplit("assistant\n" if tok_name == "chat_tok" else "Plot: ", 1)[1]
        genre = ex["prompt"].split("Genre: ")[1].split("\n")[0] if "Genre: " in ex["prompt"] else None
        genres.add(genre)
        assert ex["prompt"] == render_plot_prompt(tok, opening, genre, settings)  # exactly what `plot` sends
        assert ex["completion"].startswith(" ") and (opening + ex["completion"]) in PLOT  # the plot goes on
        assert ex["add_eos"] == PLOT.endswith(ex["completion"])  # eos only where the plot ends
        assert len(tokenize_example(ex, tok)["input_ids"]) <= 256
    assert {"Horror", "Thriller", None} <= genres  # one of the film's genres, sometimes two, sometimes none


def test_chat_prompt_starts_the_answer_with_the_opening(chat_tok):
    prompt = render_plot_prompt(chat_tok, "A shark attacks.", "Horror", Settings())
    assert "Genre: Horror\nContinue this movie plot." in prompt
    assert prompt.endswith("<|im_start|>assistant\nA shark attacks.")


def test_films_split_whole_and_openings_are_held_out(base_tok):
    films = _films(60)
    examples, openings = plot_examples(films, base_tok, Settings(), max_length=256, source="fixture",
                                       val_share=0.2, test_share=0.2, seed=1)
    split_of = {m.id: film_split(m.id, 0.2, 0.2) for m in films}
    assert {s for s, _ in examples} == {"train", "validation", "test"}
    for split, ex in examples:
        title = ex["question"].rsplit(" (", 1)[0]
        year = int(ex["question"].rsplit("(", 1)[1].rstrip(")"))
        assert split == split_of[Movie(title=title, year=year).id]
    held = {m.id for m in films if split_of[m.id] != "train"}
    assert {o["id"] for o in openings} == held and len(openings) == len(held)  # one opening per held-out film
    assert all(o["split"] == split_of[o["id"]] and (o["opening"] + " " + o["continuation"]) in PLOT for o in openings)


def test_windows_follow_the_plot_and_fit_the_budget():
    def count(text: str) -> int:  # a word "tokenizer"
        return len(text.split())

    windows = plot_windows(PLOT, count, lambda opening: 12, windows=3, rng=random.Random(3), mid_sentence_share=0)
    assert len(windows) >= 2
    position = 0
    for w in windows:
        assert count(" " + w.continuation) <= 12
        position = PLOT.index(w.opening + " " + w.continuation, position)
    assert windows[-1].ends_plot == PLOT.endswith(windows[-1].continuation)
    long_first = "A retired detective in a small coastal town receives a letter from a friend who died years ago. " \
        "He goes looking."
    cut = plot_windows(long_first, count, lambda opening: 40, windows=1, rng=random.Random(0),
                       mid_sentence_share=1.0)[0]  # a user's opening may stop mid-sentence
    assert not cut.opening.endswith(".") and long_first == cut.opening + " " + cut.continuation


def test_sentences_genres_and_split_are_stable():
    assert split_sentences("Dr. Who flies. He lands! \"Why?\" she asks.") == ["Dr. Who flies.", "He lands!",
                                                                              "\"Why?\" she asks."]
    rng = random.Random(0)
    labels = [genre_label(["Drama", "unknown", "Crime"], rng) for _ in range(200)]
    assert "unknown" not in " ".join(str(g) for g in labels) and None in labels and "Drama" in labels
    assert genre_label([], rng) is None
    assert film_split("jaws (1975)", 0.05, 0.05) == film_split("jaws (1975)", 0.05, 0.05)


def test_truecaser_restores_casing_or_gives_up():
    caser = Truecaser()
    caser.learn("In the film, Julie travels to Paris with her old friend. Later she meets Paris again.")
    caser.learn_names(["Julie Kohler"])
    caser.learn_names(["The Old Friend"], titles=True)
    assert caser.case("julie kohler travels to paris. her friend meets her.") == \
        "Julie Kohler travels to Paris. Her friend meets her."
    assert caser.case("julie meets zorg.") is None  # an unknown word: its casing is a guess, so the text is dropped


def test_prepare_writes_test_split_and_openings(tmp_path, base_tok):
    from tests.training.conftest import write_sample_catalog

    catalog = write_sample_catalog(_films(60), tmp_path / "plots.csv")
    cfg = PrepareConfig(lm_catalogs=[str(catalog)], val_share=0.2, lm_test_share=0.2, shared_data=str(tmp_path))
    report = prepare(cfg, str(tmp_path / "out"), Settings().with_overrides(progress=False), tokenizer=base_tok)
    data = load_prepared(str(tmp_path / "out"))
    assert set(data) == {"train", "validation", "test"} and report["test"] == len(data["test"]) > 0
    rows = [json.loads(line) for line in (tmp_path / "out" / OPENINGS_FILE).read_text().splitlines()]
    assert {r["split"] for r in rows} == {"validation", "test"}
    assert read_meta(str(tmp_path / "out"))["plot_openings"] == {s: sum(r["split"] == s for r in rows)
                                                                 for s in ("validation", "test")}
