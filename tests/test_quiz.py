"""Reveals, quiz questions and the decision exercise: right answers pass, wrong ones are explained."""

import ipywidgets as w
import pytest

import stickylab as sl
from stickylab import quiz


def test_to_html_escapes_and_renders_a_little_markdown():
    out = quiz.to_html("Use `a<b>` and **bold** *it*.\n\n- one\n  cont\n- two")
    assert "<code>a&lt;b&gt;</code>" in out and "<b>bold</b>" in out and "<i>it</i>" in out
    assert "<ul><li>one cont</li><li>two</li></ul>" in out
    assert "<script>" not in quiz.to_html("<script>alert(1)</script>")
    assert quiz.to_html("2 * 3 * 4") == "<p>2 * 3 * 4</p>"


def test_answers_start_collapsed_with_one_panel_per_question():
    box = quiz.answers({"1. first": "It is **75 %**.", "2. second": "None."})
    assert isinstance(box, w.Accordion) and box.selected_index is None
    assert box.titles == ("1. first", "2. second")
    assert "<b>75 %</b>" in box.children[0].value
    assert quiz.reveal("x").titles == ("Show the answer (try it first)",)
    with pytest.raises(ValueError):
        quiz.answers({})


def test_choice_gives_immediate_feedback_and_explains_a_wrong_option():
    q = quiz.Choice("Which?", ["cookie", "IP", "header"], "cookie", "Cookies follow the browser.",
                    why={"IP": "NAT puts many users on one address."})
    assert q.check("cookie") == (True, "Cookies follow the browser.")
    right, message = q.check("IP")
    assert not right and message.startswith("NAT puts") and "Cookies follow" in message
    assert q.correct is None
    q.buttons.value = "header"                 # what a click does
    assert q.correct is False and "Not quite" in q.feedback.value
    q.buttons.value = "cookie"
    assert q.correct is True and "Right" in q.feedback.value
    assert quiz.Choice("?", ["a", "b"], 1, "").answer == "b"
    for bad in (dict(options=["a"], answer="a"), dict(options=["a", "b"], answer="c"),
                dict(options=["a", "a"], answer="a")):
        with pytest.raises(ValueError):
            quiz.Choice("?", explanation="", **bad)
    with pytest.raises(ValueError):
        quiz.Choice("?", ["a", "b"], "a", "", why={"z": "no such option"})


def test_numeric_takes_typed_text_within_tolerance_and_says_which_side():
    q = quiz.Numeric("Loss with 4 instances, in %?", 74.6, 3, "It is 1 - 1/N.", unit="%")
    assert q.check("75")[0] and q.check("72 %")[0] and q.check(77.5)[0]
    right, message = q.check("50")
    assert not right and "too low" in message
    assert "too high" in q.check(90)[1]
    assert not q.check("seventy")[0] and not q.check(float("nan"))[0] and not q.check(True)[0]
    q.text.value = "74"                        # typing and pressing Enter
    assert q.correct is True and "74.6%" in q.feedback.value
    q.text.value = "10"
    q.button.click()
    assert q.correct is False
    with pytest.raises(ValueError):
        quiz.Numeric("?", float("inf"), 1, "")
    with pytest.raises(ValueError):
        quiz.Numeric("?", 1, -1, "")


def test_quiz_keeps_score_as_questions_are_answered():
    a = quiz.Choice("a?", ["x", "y"], "x", "")
    b = quiz.Numeric("b?", 10, 1, "")
    qz = quiz.Quiz([a, b], title="Recap")
    assert qz.score() == (0, 2) and "0 answered" in qz.score_line.value
    a.buttons.value = "x"
    b.text.value = "3"
    assert qz.score() == (1, 2) and "2 answered" in qz.score_line.value
    b.text.value = "10.5"
    assert qz.score() == (2, 2) and "all of them" in qz.score_line.value
    assert isinstance(qz.widget, w.VBox)
    with pytest.raises(TypeError):
        quiz.Quiz(["not a question"])


@pytest.fixture(scope="module")
def decision():
    system = sl.Scenario(users=300, instances=3, duration=120.0, seed=2)
    return quiz.Decision(
        system,
        {"RoundRobin": sl.routers.RoundRobin,
         "CookieInsert": quiz.Option(sl.routers.CookieInsert, note="The balancer's own cookie."),
         "RoundRobin + store": quiz.Option(sl.routers.RoundRobin, {"session_store": "external"})},
        [quiz.Requirement("at most 1 % of requests logged out", lambda r: r.session_loss_rate(), 0.01,
                          fmt=".1%")],
        events=[sl.Fail("i1", at=60.0)], description="A small shop.")


def test_decision_measures_every_option_and_names_those_that_pass(decision):
    assert decision.passing() == ["RoundRobin + store"]
    assert decision.measure()["RoundRobin"]["at most 1 % of requests logged out"] > 0.5
    assert decision.scenario("RoundRobin + store").session_store == "external"
    ok, message = decision.check("RoundRobin")
    assert not ok and "✗" in message and "RoundRobin + store" in message
    ok, message = decision.check("RoundRobin + store")
    assert ok and "No other method" in message
    assert "The balancer's own cookie." in decision.check("CookieInsert")[1]
    with pytest.raises(ValueError, match="choose one of"):
        decision.check("Maglev")


def test_decision_accepts_only_a_run_of_the_choice_on_the_system(decision):
    name = "RoundRobin + store"
    mine = sl.simulate(decision.scenario(name), sl.routers.RoundRobin(), events=decision.events)
    assert decision.check(name, mine)[0]
    assert "Right." in decision.verdict(name, mine).value
    other_system = sl.simulate(decision.system, sl.routers.RoundRobin(), events=decision.events)
    assert "different scenario" in decision.check(name, other_system)[1]
    other_router = sl.simulate(decision.scenario(name), sl.routers.Random(), events=decision.events)
    assert "not the" in decision.check(name, other_router)[1]
    no_events = sl.simulate(decision.scenario(name), sl.routers.RoundRobin())
    assert "events" in decision.check(name, no_events)[1]


def test_decision_widget_runs_the_chosen_method(decision):
    decision.button.click()
    assert "Choose a method" in decision.output.value
    decision.picker.value = "CookieInsert"
    decision.button.click()
    assert "Not quite" in decision.output.value and "<table>" in decision.output.value
    assert decision.table_html().count("<tr>") == 1 + len(decision.options)


def test_a_requirement_reads_its_metric_with_its_unit(decision):
    slow = quiz.Requirement("p99 at most 1 s", lambda r: r.p99_latency() * 1000, 1000, fmt=",.0f", unit=" ms")
    res = decision.run("CookieInsert")
    assert slow.show(res).endswith(" ms") and slow.met(res)
    assert quiz.Requirement("x", lambda r: 5.0, 4.0, at_least=True).met(res)
