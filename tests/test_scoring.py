"""funnel.scoring, one test per definition (named after it), and the property that matters:
a score is the sum of the rules that hold, whatever their order."""

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from funnel import scoring
from funnel.scoring import Part, Rule, Score

BUDGET = [{"field": "custom.budget", "op": "gte", "value": 10000}]


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in English; the product's default language is pt-BR."""
    with translation.override("en"):
        yield
GOOGLE = [{"field": "custom.utm_source", "op": "eq", "value": "google"}]


def facts(**custom):
    return scoring.lead_facts(source="api", email="ana@example.com", phone="", name="Ana",
                              custom=custom, returning=False)


def test_lead_facts_are_what_routing_conditions_test():
    assert scoring.lead_facts(source="bot", email="a@b.c", phone="+5511", name="A",
                              custom=None, returning=True, origin="Landing page") == {
        "source": "bot", "email": "a@b.c", "phone": "+5511", "name": "A", "custom": {},
        "customer": "existing", "origin": "Landing page",
    }
    assert facts()["origin"] == ""
    assert facts()["customer"] == "new"


def test_behaviours_seen_names_only_what_happened():
    assert scoring.behaviours_seen(returning=True, opened_in_time=False,
                                   reached_qualified=True) == {
        scoring.RETURNING_CUSTOMER, scoring.REACHED_QUALIFIED}
    assert scoring.behaviours_seen(returning=False, opened_in_time=False,
                                   reached_qualified=False) == frozenset()


def test_rule_holds_when_its_behaviour_was_seen_and_its_conditions_hold():
    rich = Rule(1, "budget ≥ 10000", 30, BUDGET)
    rich_and_quick = Rule(2, "quick rich", 10, BUDGET, scoring.OPENED_IN_TIME)
    quick = frozenset({scoring.OPENED_IN_TIME})

    assert scoring.rule_holds(rich, facts(budget="15000"), frozenset())
    assert not scoring.rule_holds(rich, facts(budget=500), quick)
    assert not scoring.rule_holds(rich, facts(), quick)  # no budget at all
    assert not scoring.rule_holds(rich_and_quick, facts(budget=15000), frozenset())
    assert scoring.rule_holds(rich_and_quick, facts(budget=15000), quick)
    assert scoring.rule_holds(Rule(3, "returning", 5, [], scoring.RETURNING_CUSTOMER),
                              facts(), frozenset({scoring.RETURNING_CUSTOMER}))


def test_score_adds_the_points_of_the_rules_that_hold_and_names_them():
    rules = [Rule(7, "source google", 10, GOOGLE), Rule(3, "budget ≥ 10000", 30, BUDGET),
             Rule(5, "no phone", -5, [{"field": "phone", "op": "not_exists"}])]

    score = scoring.score(rules, facts(budget=20000, utm_source="Google"))

    assert score == Score(35, (Part(3, "budget ≥ 10000", 30), Part(5, "no phone", -5),
                               Part(7, "source google", 10)))
    assert scoring.score([], facts()) == Score(0, ())


def test_signed_writes_a_plus_or_a_true_minus():
    assert (scoring.signed(30), scoring.signed(-10), scoring.signed(0)) == ("+30", "−10", "+0")


def test_part_text_signs_the_points():
    assert scoring.part_text(30, "budget ≥ 10000") == "+30 budget ≥ 10000"
    assert scoring.part_text(-10, "no phone") == "−10 no phone"
    assert Part(1, "source google", 10).text == "+10 source google"


def test_score_text_is_the_parts_in_one_line():
    score = Score(40, (Part(1, "budget ≥ 10000", 30), Part(2, "source google", 10)))
    assert scoring.score_text(score) == "+30 budget ≥ 10000; +10 source google"
    assert scoring.score_text(Score(0)) == "no scoring rule holds"


def test_score_as_dict_is_what_history_keeps_and_reads_back():
    score = Score(25, (Part(1, "a", 30), Part(2, "b", -5)))
    kept = score.as_dict()
    assert kept == {"total": 25, "parts": [{"rule_id": 1, "name": "a", "points": 30},
                                           {"rule_id": 2, "name": "b", "points": -5}]}
    assert Score.from_dict(kept) == score
    assert Score.from_dict({"from": 0, **kept}) == score  # a scored event's data
    assert Score.from_dict(None) == Score(0)


def test_validate_points_takes_whole_numbers_in_range():
    assert scoring.validate_points(30) == []
    assert scoring.validate_points(-1000) == []
    assert scoring.validate_points(1001) == ["Points go from -1000 to 1000."]
    for bad in ("30", 2.5, True, None):
        assert scoring.validate_points(bad) == ["Give the points as a whole number."]


def test_scoring_fields_are_routing_fields_but_the_score():
    assert "score" not in scoring.SCORING_FIELDS
    assert {"source", "email", "phone", "name", "customer"} <= set(scoring.SCORING_FIELDS)


# --- the property -------------------------------------------------------------------------

CONDITIONS = st.sampled_from([
    [], BUDGET, GOOGLE, [{"field": "source", "op": "in", "value": ["api", "bot"]}],
    [{"field": "custom.budget", "op": "lt", "value": 5000}],
    [{"field": "customer", "op": "eq", "value": "existing"}],
])
RULES = st.lists(
    st.builds(Rule, id=st.integers(1, 10**6), name=st.text(max_size=10),
              points=st.integers(scoring.MIN_POINTS, scoring.MAX_POINTS),
              conditions=CONDITIONS,
              behaviour=st.sampled_from(["", *scoring.BEHAVIOURS])),
    max_size=12, unique_by=lambda r: r.id,
)
FACTS = st.builds(
    scoring.lead_facts, source=st.sampled_from(["api", "bot", "manual"]), email=st.just(""),
    phone=st.just(""), name=st.just(""), returning=st.booleans(),
    custom=st.fixed_dictionaries({}, optional={
        "budget": st.one_of(st.integers(0, 50000), st.sampled_from(["12000", "n/a"])),
        "utm_source": st.sampled_from(["google", "GOOGLE", "facebook"])}),
)
BEHAVIOURS = st.frozensets(st.sampled_from(scoring.BEHAVIOURS))


@given(rules=RULES, facts=FACTS, behaviours=BEHAVIOURS, order=st.randoms())
def test_a_score_is_the_sum_of_the_matching_rules_whatever_their_order(
    rules, facts, behaviours, order
):
    expected = sum(r.points for r in rules if scoring.rule_holds(r, facts, behaviours))
    shuffled = list(rules)
    order.shuffle(shuffled)

    score = scoring.score(rules, facts, behaviours)

    assert score.total == expected == sum(p.points for p in score.parts)
    assert scoring.score(shuffled, facts, behaviours) == score
    assert {p.rule_id for p in score.parts} == {
        r.id for r in rules if scoring.rule_holds(r, facts, behaviours)}
