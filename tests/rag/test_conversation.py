"""Follow-up questions: the entity memory (rag.memory), the rewriting rules (rag.followup) and the chat over a pipeline
(rag.conversation), in the terminal chat and the demo, on the tiny in-memory catalog."""
from __future__ import annotations

import builtins
import io
import json

import pytest

from cli.answer_cmd import chat_loop
from core.config import Settings
from index.catalog import Catalog
from rag.conversation import Conversation, TurnCache, exchanges, message_text
from rag.followup import Rewrite, rewrite
from rag.memory import FILM, PERSON, Memory, Mention, Names, Turn
from rag.pipeline import Pipeline
from rag.retrieve import Retriever
from rag.ui import RESET_REPLY, Demo
from tests.rag.conftest import _movies
from tests.rag.test_evidence import FakePlanner

PLANS = {  # the resolved questions the planner is asked (FakePlanner: question → plan)
    "Who directed Inception?": ('lookup film:"Inception" > director', 0.99),
    "Who wrote Inception?": ('lookup film:"Inception" > writer', 0.99),
    "Who starred in Inception?": ('lookup film:"Inception" > actor', 0.99),
    "What year was Inception released?": ('lookup film:"Inception" > year', 0.99),
    "What else did the director of Inception direct?": ('lookup film:"Inception" > director < director', 0.95),
    "What else did the director of Inception make?": ('lookup film:"Inception" > director < director', 0.95),
    "What else did Leonardo DiCaprio star in?": ('lookup person:"Leonardo DiCaprio" < actor', 0.95),
    "Who directed Jaws?": ('lookup film:"Jaws" > director', 0.99),
    "Who wrote Jaws?": ('lookup film:"Jaws" > writer', 0.99),
    "What else did the actors of Inception star in?": ('lookup film:"Inception" > actor < actor', 0.95),
    "What films did Christopher Nolan direct?": ('lookup person:"Christopher Nolan" < director', 0.95),
    "Who wrote the films directed by Christopher Nolan?": (
        'lookup person:"Christopher Nolan" < director > writer', 0.95),
    "Which films did Christopher Nolan direct since 2009?": (
        'lookup person:"Christopher Nolan" < director | year=2009..', 0.95),
    "Which films did Christopher Nolan direct before 2009?": (
        'lookup person:"Christopher Nolan" < director | year=..2008', 0.95),
    "Which film has a shark in it?": ("identify", 0.2),  # unsure: hybrid retrieval, streamed
}


@pytest.fixture(scope="module")
def names(mem_index, embedder) -> Names:
    return Names(Retriever(mem_index, embedder, Settings()))


@pytest.fixture
def chat_pipeline(mem_index, embedder, tiny_model, rag_settings):
    """The tiny pipeline with a planner that knows PLANS and the catalog store of the tiny films."""
    model, tokenizer = tiny_model
    return Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2",
                    planner=FakePlanner(PLANS), catalog=Catalog.from_movies(_movies()))


def _memory(*turns: Turn) -> Memory:
    memory = Memory()
    for turn in turns:
        memory.add(turn)
    return memory


INCEPTION = Mention(FILM, "Inception", 2010)
JAWS = Mention(FILM, "Jaws", 1975)
NOLAN = Mention(PERSON, "Christopher Nolan", roles=frozenset({"director", "writer"}),
                origin=("director", "Inception"))
DICAPRIO = Mention(PERSON, "Leonardo DiCaprio", roles=frozenset({"actor"}))
GORDON_LEVITT = Mention(PERSON, "Joseph Gordon-Levitt", roles=frozenset({"actor"}))
DIRECTED = Turn("Who directed Inception?", "Who directed Inception?", [INCEPTION], [NOLAN], "person", "lookup")
CAST = Turn("Who starred in it?", "Who starred in Inception?", [INCEPTION], [DICAPRIO, GORDON_LEVITT], "person",
            "lookup", people_of=("actor", "Inception"))


# ---------------------------------------------------------------- the rules

def test_pronouns_become_the_film_or_person_they_stand_for(names):
    memory = _memory(DIRECTED)
    assert rewrite("who starred in it?", memory, names).text == "Who starred in Inception?"
    assert rewrite("Is this movie any good?", memory, names).text == "Is Inception any good?"
    said = rewrite("what else did he make?", memory, names)  # the person who answered: leave the film out
    assert said.how == Rewrite.PRONOUN and said.text == "What else did the director of Inception make?"
    assert rewrite("how old are his films?", memory, names).text == "How old are Christopher Nolan's films?"


def test_ellipsis_takes_a_field_of_the_last_film(names):
    memory = _memory(DIRECTED)
    for question, expected in [("and the year?", "What year was Inception released?"),
                               ("and who wrote it?", "Who wrote Inception?"),
                               ("what about the cast?", "Who starred in Inception?"),
                               ("How long?", "How long is Inception?")]:
        said = rewrite(question, memory, names)
        assert (said.text, said.how) == (expected, Rewrite.FIELD), question


def test_a_question_naming_its_own_topic_is_a_new_topic(names):
    memory = _memory(DIRECTED)
    for question in ("Who directed Jaws?", "and who wrote Scarface 1983?", "Which films star Al Pacino?",
                     "What are the longest films?", "Which film has a shark in it?"):
        said = rewrite(question, memory, names)
        assert not said.rewritten and said.text == question, question
    # a pronoun of the other kind still resolves: the film is the question's own, "he" is Nolan
    assert rewrite("Did he direct Jaws?", memory, names).text == "Did Christopher Nolan direct Jaws?"


def test_a_bare_new_name_swaps_the_topic_of_the_last_question(names):
    memory = _memory(Turn("Who directed Jaws?", "Who directed Jaws?", [JAWS], [], "person", "lookup"))
    said = rewrite("and Inception?", memory, names)
    assert (said.text, said.how) == ("Who directed Inception?", Rewrite.SWAP)
    assert rewrite("what about Jaws?", memory, names).text == "what about Jaws?"  # the same topic: nothing to swap


def test_a_pronoun_without_gender_takes_what_fits_the_question(names):
    memory = _memory(DIRECTED, CAST)
    # "they" acting in a role: the most recent person credited in that role (the director is not in the cast list)
    directed = rewrite("what else did they direct?", memory, names).text
    assert directed == "What else did the director of Inception direct?"
    # he/she carry no gender field here either: the role decides, and a list's first person acts in it
    assert rewrite("What else did she star in?", memory, names).text == "What else did Leonardo DiCaprio star in?"
    # a plural "they" after a list of people: all of them, as the planner reads a group
    group = rewrite("what else did they star in?", memory, names).text
    assert group == "What else did the actors of Inception star in?"
    # "them" as an object: a film; after a list of films, that list
    assert rewrite("who wrote them?", memory, names).text == "Who wrote Inception?"
    listed = Turn("What films did Christopher Nolan direct?", "What films did Christopher Nolan direct?", [NOLAN],
                  [INCEPTION, Mention(FILM, "The Dark Knight", 2008)], "film", "lookup",
                  listing="the films directed by Christopher Nolan")
    assert rewrite("who wrote them?", _memory(listed), names).text == \
        "Who wrote the films directed by Christopher Nolan?"
    # nothing of the needed kind remembered: left as it is
    films_only = _memory(Turn("Describe Jaws", "Describe Jaws", [JAWS], [], None, "describe"))
    assert not rewrite("what else did she star in?", films_only, names).rewritten


def test_older_ones_moves_the_year_range_of_the_last_list(names):
    listed = Turn("Which films did Christopher Nolan direct since 2009?",
                  "Which films did Christopher Nolan direct since 2009?", [NOLAN], [INCEPTION], "film", "lookup")
    said = rewrite("any older ones?", _memory(listed), names)
    assert (said.text, said.how) == ("Which films did Christopher Nolan direct before 2009?", Rewrite.YEARS)
    assert rewrite("and from the 90s?", _memory(listed), names).text == \
        "Which films did Christopher Nolan direct from the 90s?"
    liked = Turn("Recommend films like Inception", "Recommend films like Inception", [INCEPTION],
                 [Mention(FILM, "The Dark Knight", 2008)], "film", "recommend")
    assert rewrite("any older ones?", _memory(liked), names).text == "Recommend films like Inception before 2010?"
    assert rewrite("any newer ones?", _memory(liked), names).text == "Recommend films like Inception after 2010?"
    assert not rewrite("any older ones?", _memory(DIRECTED), names).rewritten  # a person answered: no list


def test_pronoun_titles_are_pronouns_unless_written_as_titles(names):
    assert names.spans("who wrote it?") == []
    assert [n.mention.name for n in names.spans("Who directed M?")] == ["M"]
    assert [n.mention.text for n in names.spans("Who directed Scarface?")] == ["Scarface"]
    assert names.film("Scarface", 1983).text == "Scarface (1983)"  # remakes are written with their year


def test_resolving_takes_about_a_millisecond(names):
    import time

    memory = _memory(DIRECTED, CAST)
    start = time.perf_counter()
    for _ in range(20):
        rewrite("what else did they star in?", memory, names)
    assert (time.perf_counter() - start) / 20 < 0.05  # pure string and entity work (≈0.2 ms measured)


# ---------------------------------------------------------------- the conversation over a pipeline

def test_a_conversation_resolves_and_remembers(chat_pipeline):
    chat = Conversation(chat_pipeline)
    first = chat.ask("Who directed Inception?")
    assert first.resolved_question is None and first.to_dict()["resolved_question"] is None
    second = chat.ask("and who wrote it?")
    assert second.question == "and who wrote it?" and second.resolved_question == "Who wrote Inception?"
    assert second.plan["executed"] and second.plan["answers"] == ["Christopher Nolan"]
    assert second.to_dict()["resolved_question"] == "Who wrote Inception?"
    third = chat.ask("what else did he direct?")
    assert third.resolved_question == "What else did the director of Inception direct?"
    assert third.plan["answers"] == ["The Dark Knight"]  # the film of the first turn is left out
    assert chat.ask("Who directed Jaws?").resolved_question is None  # a new topic
    assert chat.ask("who wrote it?").resolved_question == "Who wrote Jaws?"
    chat.reset()
    assert not chat.resolve("who wrote it?").rewritten


def test_a_plural_pronoun_after_a_list_stands_for_the_whole_list(chat_pipeline):
    chat = Conversation(chat_pipeline)
    chat.ask("Who starred in Inception?")
    assert chat.memory.last.people_of == ("actor", "Inception") and len(chat.memory.last.answers) == 2
    assert chat.resolve("what else did they star in?").text == "What else did the actors of Inception star in?"
    assert chat.resolve("what else did she star in?").text == "What else did Leonardo DiCaprio star in?"
    chat.ask("What films did Christopher Nolan direct?")
    assert chat.memory.last.listing == "the films directed by Christopher Nolan"
    answer = chat.ask("who wrote them?")
    assert answer.resolved_question == "Who wrote the films directed by Christopher Nolan?"
    assert answer.plan["executed"] and "Jonathan Nolan" in answer.plan["answers"]  # a writer of Nolan's films


def test_people_fit_by_the_role_the_chat_met_them_in(chat_pipeline):
    """After the director and then two writers, "he" who "made" something is the director (a writer who also
    directed elsewhere does not fit better: the chat met him as a writer)."""
    chat = Conversation(chat_pipeline)
    chat.ask("Who directed Jaws?")
    chat.ask("and who wrote it?")
    assert [m.name for m in chat.memory.last.answers] == ["Peter Benchley", "Carl Gottlieb"]
    assert chat.resolve("what else did he make?").text == "What else did the director of Jaws make?"
    assert chat.resolve("what else did she write?").text == "What else did Peter Benchley write?"


def test_an_interrupted_answer_is_not_remembered(chat_pipeline):
    chat = Conversation(chat_pipeline)
    stream = chat.ask_stream("Which film has a shark in it?")  # an unsure plan: retrieval, streamed token by token
    assert next(stream)[1] is None
    stream.close()
    assert len(chat.memory) == 0


def test_chat_loop_prints_the_resolved_question_and_resets(chat_pipeline, monkeypatch):
    lines = iter(["Who directed Inception?", "and the year?", "/reset", "and the year?", "exit"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(lines))
    out = io.StringIO()
    assert chat_loop(chat_pipeline, stdout=out) == 0
    text = out.getvalue()
    assert text.count("(understood as: What year was Inception released?)") == 1
    assert "(memory cleared" in text and text.count("bot> ") == 3


def test_chat_loop_json_lines_carry_the_resolved_question(chat_pipeline, monkeypatch):
    lines = iter(["Who directed Inception?", "what about the writer?", "exit"])
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(lines))
    out = io.StringIO()
    chat_loop(chat_pipeline, stdout=out, as_json=True)
    answers = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    assert [a["resolved_question"] for a in answers] == [None, "Who wrote Inception?"]
    assert answers[1]["question"] == "what about the writer?"


# ---------------------------------------------------------------- the demo: the Gradio history is the memory

def _history(*pairs: tuple[str, str]) -> list[dict]:
    """Gradio 6's message dicts: contents as lists of text parts, each answer followed by its sources panel."""
    out = []
    for question, answer in pairs:
        out += [{"role": "user", "content": [{"type": "text", "text": question}]},
                {"role": "assistant", "content": [{"type": "text", "text": answer}]},
                {"role": "assistant", "content": "<div>panel</div>", "metadata": {"title": "Sources (1)"}}]
    return out


def test_history_parsing_keeps_the_questions_and_answers_after_the_last_reset():
    history = _history(("Who directed Jaws?", "Steven Spielberg"), ("/reset", RESET_REPLY),
                       ("Who directed Inception?", "Christopher Nolan"))
    assert exchanges(history) == [("Who directed Inception?", "Christopher Nolan")]
    assert message_text([{"type": "text", "text": "a"}, {"type": "file", "path": "x"}]) == "a"
    assert exchanges([]) == [] and exchanges(None) == []


def test_the_demo_resolves_follow_ups_from_the_history(chat_pipeline):
    demo = Demo(chat_pipeline, Settings())
    *_, (answer, panel) = demo.ask("Who directed Inception?", history=[])
    history = _history(("Who directed Inception?", answer["content"]))
    *_, (answer, panel) = demo.ask("and who wrote it?", history=history)
    assert "understood as: Who wrote Inception?" in panel["metadata"]["title"]
    assert "Understood as: <b>Who wrote Inception?</b>" in panel["content"]
    assert "Inception (2010). Written by " in panel["content"]  # the fact line it answered from
    # the clear button empties the history: nothing to resolve against
    *_, (_, panel) = demo.ask("and who wrote it?", history=[])
    assert "understood as" not in panel["metadata"]["title"]
    # '/reset' typed in the chat: a reply, and the turns before it are forgotten
    assert list(demo.ask("/reset", history=history)) == [RESET_REPLY]
    *_, (_, panel) = demo.ask("and who wrote it?", history=history + _history(("/reset", RESET_REPLY)))
    assert "understood as" not in panel["metadata"]["title"]


def test_a_history_from_elsewhere_is_rebuilt_from_its_text(chat_pipeline):
    """Turns this process did not answer (another worker, a restart) are rebuilt by linking their text."""
    chat = Conversation(chat_pipeline, cache=TurnCache())
    chat.replay([("Who starred in Inception?", "Leonardo DiCaprio, Joseph Gordon-Levitt")])
    assert chat.resolve("what else did she star in?").text == "What else did Leonardo DiCaprio star in?"
    assert chat.resolve("and who wrote it?").text == "Who wrote Inception?"
