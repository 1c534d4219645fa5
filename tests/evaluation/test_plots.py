"""evaluation.plots: the junk checker, held-out openings, and the junk-rate command (with a stand-in pipeline)."""
from __future__ import annotations

import json

import pytest

from core.errors import DataError
from evaluation.plots import is_junk, junk_rate, junk_reasons, main, read_openings, sample_plots

PROSE = [
    "When they break down on a deserted stretch of road, they're preyed upon by the ghosts of people who died there.",
    "He had one goal: revenge. She follows him to Paris, where the truth about her father's death waits.",
    "Dr. Smith, a 45-year-old surgeon, arrives in New York City. Mr. Jones isn't happy — at all.",
    "Café owner Zoë meets François in Montréal; they fall in love.\n\nYears later, the war separates them.",
    "The man walks away. The man walks away. Then the man sits down.",  # a 4-gram twice is still prose
]
JUNK = {
    "Sitemap https://www.example.com/movies": ["url"],
    "More at imdb.com for fans of the film.": ["url"],
    "<p>The shark returns.</p>": ["markup", "code"],
    "The shark returns. **The End** of the story.": ["markup"],
    'The shark returns.", "year": 1975}': ["markup", "code"],
    "The killer is revealed; x = find_killer() finally.": ["code"],
    "The man walks away. The man walks away. The man walks away again.": ["repetition"],
    "Title: Jaws\nGenre: Horror": ["not_prose"],
    "The crew:\n1. The shark\n2. The boat": ["not_prose"],
    "Sure! Here's the continuation of the plot you asked for.": ["not_prose"],
    "INT. HOUSE - NIGHT\nA man enters.": ["not_prose"],
    "": ["not_prose"],
    "... 1 2 3 4 5 6": ["not_prose"],
    "THE END OF THE STORY": ["not_prose"],
    "Они встречаются в Москве и влюбляются.": ["not_prose"],
}


@pytest.mark.parametrize("text", PROSE)
def test_prose_is_not_junk(text):
    assert junk_reasons(text) == [] and not is_junk(text)


@pytest.mark.parametrize("text,reasons", JUNK.items())
def test_junk_says_why(text, reasons):
    assert junk_reasons(text) == reasons and is_junk(text)


def test_junk_rate():
    assert junk_rate(PROSE + list(JUNK)) == pytest.approx(len(JUNK) / (len(PROSE) + len(JUNK)))
    assert junk_rate([]) == 0.0


def _openings_file(tmp_path, n: int = 12):
    rows = [{"split": "test" if i % 2 else "validation", "id": f"film {i}", "title": f"Film {i}", "year": 2000 + i,
             "genre": "Drama" if i % 3 else None, "opening": f"A  stranger comes to town number {i}.",
             "continuation": "He stays."} for i in range(n)]
    path = tmp_path / "plot_openings.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_openings_are_drawn_from_one_split_with_the_seed(tmp_path):
    path = _openings_file(tmp_path)
    drawn = read_openings(str(path), "test", 4, seed=7)
    assert len(drawn) == 4 and {r["split"] for r in drawn} == {"test"}
    assert drawn == read_openings(str(path), "test", 4, seed=7) and drawn != read_openings(str(path), "test", 4, 8)
    with pytest.raises(DataError, match="fewer than 50"):
        read_openings(str(path), "test", 50, seed=7)
    with pytest.raises(DataError, match="no openings file"):
        read_openings(str(tmp_path / "missing.jsonl"), "test", 4, seed=7)


class FakePipeline:
    """Continues every opening with a fixed text per call; records the genre and seed it was given."""

    generator_name, plot_generator_name = "fake answers", "fake plots"

    def __init__(self, continuations: list[str]) -> None:
        self.continuations, self.calls = list(continuations), []

    def plot(self, opening, genre=None, seed=None, **gen):
        self.calls.append((opening, genre, seed))
        return f"{opening} {self.continuations[len(self.calls) - 1]}"


def test_sample_plots_checks_only_the_continuation(tmp_path):
    openings = read_openings(str(_openings_file(tmp_path)), "validation", 3, seed=1)
    pipe = FakePipeline([PROSE[0], "Visit www.example.org now.", PROSE[1]])
    samples = sample_plots(pipe, openings, seed=5)
    assert [s["reasons"] for s in samples] == [[], ["url"], []]
    assert samples[0]["continuation"] == PROSE[0] and "  " not in samples[0]["opening"]
    assert [c[2] for c in pipe.calls] == [5, 6, 7] and [c[1] for c in pipe.calls] == [o["genre"] for o in openings]


def test_command_prints_the_junk_rate(tmp_path, monkeypatch, capsys):
    import rag.pipeline

    pipe = FakePipeline([PROSE[0], JUNK_TEXT, PROSE[2], PROSE[3]])
    monkeypatch.setattr(rag.pipeline, "load_pipeline", lambda settings, need_index=True: pipe)
    out = tmp_path / "junk.json"
    code = main(["--openings", str(_openings_file(tmp_path)), "--split", "test", "--n", "4", "--seed", "3",
                 "--no-repeat-ngram-size", "4", "--out", str(out)])
    printed = json.loads(capsys.readouterr().out)
    assert code == 0 and printed["junk_rate"] == 0.25 and printed["reasons"] == {"url": 1}
    assert printed["decoding"]["no_repeat_ngram_size"] == 4 and printed["plot_generator"] == "fake plots"
    assert len(json.loads(out.read_text())["items"]) == 4


def test_command_error_is_one_line(tmp_path, capsys):
    assert main(["--openings", str(tmp_path / "none.jsonl")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


JUNK_TEXT = "Sitemap https://example.com"
