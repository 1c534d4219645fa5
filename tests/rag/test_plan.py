"""The plan grammar: str(plan) and parse_plan are inverses, and bad plan text is refused with one line."""
from __future__ import annotations

import pytest

from core.errors import PlanError
from rag.plan import Constraints, Entity, EntityKind, Hop, Op, Plan, Rel, parse_plan

PLANS = [
    'lookup film:"Alien" > director',
    'lookup person:"Joaquin Phoenix" < actor > director',
    'lookup film:"Alien" > director < director',
    'lookup person:"Tom Hanks" < actor > director < director > year',
    'count person:"Stanley Kubrick" < director',
    'argmin all > runtime',
    'top all > rating | year=1980..1989 genre="Horror" n=5',
    'argmax film:"Alien" (1979), film:"Aliens" > runtime',
    'check film:"Alien" > director = person:"Ridley Scott"',
    'lookup tag:"time travel" < tag | year=..1999',
    'count all < genre | language="French" min_rating=7.5',
    'describe film:"Parasite" (2019)',
    'recommend film:"The Matrix" | year=..1990',
    "identify",
    "off_topic",
]


@pytest.mark.parametrize("text", PLANS)
def test_round_trip(text):
    plan = parse_plan(text)
    assert str(plan) == text
    assert parse_plan(str(plan)) == plan


def test_parsed_structure():
    plan = parse_plan('top all > rating | year=1980..1989 genre="Horror" n=5')
    assert plan.op == Op.TOP and plan.topics == [] and plan.path == [Hop(Rel.RATING)] and plan.n == 5
    assert plan.constraints == Constraints(year_from=1980, year_to=1989, genre="Horror")
    two_hop = parse_plan('lookup person:"Joaquin Phoenix" < actor > director')
    assert two_hop.topics == [Entity(EntityKind.PERSON, "Joaquin Phoenix")]
    assert two_hop.path == [Hop(Rel.ACTOR, back=True), Hop(Rel.DIRECTOR)]
    assert two_hop.exact and not parse_plan("describe film:\"Alien\"").exact


def test_quotes_inside_names_survive():
    plan = Plan(Op.LOOKUP, [Entity(EntityKind.FILM, 'The "Burbs"')], [Hop(Rel.YEAR)])
    assert parse_plan(str(plan)) == plan


def test_to_dict_carries_the_text():
    data = parse_plan('count person:"Stanley Kubrick" < director').to_dict()
    assert data["op"] == "count" and data["text"] == 'count person:"Stanley Kubrick" < director'


@pytest.mark.parametrize("bad", ["frobnicate all > year", 'lookup film:"Alien" > composer',
                                 "lookup all > year | colour=red", 'check film:"Alien" > director = somebody'])
def test_bad_plans_are_refused(bad):
    with pytest.raises(PlanError):
        parse_plan(bad)
