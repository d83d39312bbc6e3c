"""The cancellation flow's rules without I/O: routing, holdout, one outcome per session, undo."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.cancel import contracts
from chalicelib.core import signed_links
from chalicelib.core.errors import Invalid
from chalicelib.domain import cancel as rules
from chalicelib.domain.cancel import Answer, Change, Reason, Settled, Status

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
KEYS = {"k1": b"k" * 32, "k2": b"j" * 32}


def request(**overrides) -> rules.SessionRequest:
    raw = {
        "business": "acme",
        "customer_id": "cus_1",
        "subscription_id": "sub_1",
        "plan": "Pro",
        "price": 1999,
        "currency": "usd",
        "tenure_months": 3,
        "locale": "en",
        "return_url": "https://acme.example/account",
        "effective_date": "2026-12-20",
    }
    return contracts.parse_session_request({**raw, **overrides}, NOW.date())


def session(flow=rules.DEFAULT_FLOW, **overrides) -> rules.Session:
    return rules.open_session(request(**overrides), flow, "sess1", NOW)


NO_HOLDOUT = replace(rules.DEFAULT_FLOW, holdout_percent=0)


def test_a_session_request_keeps_money_in_minor_units_and_refuses_what_it_cannot_use():
    assert request().price == 1999 and request().currency == "USD"
    for bad in ({"price": 19.99}, {"return_url": "javascript:alert(1)"}, {"effective_date": "2026-12-01"}):
        with pytest.raises(Invalid) as refused:
            request(**bad)
        assert refused.value.code == "invalid_session"


def test_routing_by_reason_price_gets_a_discount_unused_a_pause_switching_nothing():
    s = session(NO_HOLDOUT)
    assert rules.choose_offer(s, Reason.TOO_EXPENSIVE)[1].kind == "discount"
    assert rules.choose_offer(s, Reason.UNUSED)[1].kind == "pause"
    assert rules.choose_offer(s, Reason.SWITCHED_SERVICE) == (rules.NO_OFFER, None)
    assert rules.choose_offer(s, None) == (rules.NO_OFFER, None)


def test_the_holdout_is_sticky_and_near_its_share():
    flow = replace(rules.DEFAULT_FLOW, holdout_percent=20)
    arms = [rules.choose_offer(session(flow, subscription_id=f"s{n}"), Reason.UNUSED)[0] for n in range(2000)]
    share = arms.count(rules.HOLDOUT) / len(arms)
    assert 0.17 < share < 0.23
    assert arms == [rules.choose_offer(session(flow, subscription_id=f"s{n}"), Reason.UNUSED)[0] for n in range(2000)]


def test_arms_split_a_reason_between_its_offers():
    offers = [{"offer_id": "p1", "kind": "pause", "months": 1}, {"offer_id": "p3", "kind": "pause", "months": 3}]
    flow = contracts.parse_flow({"offers": {"unused": offers}, "holdout_percent": 0})
    seen = {rules.choose_offer(session(flow, subscription_id=f"s{n}"), Reason.UNUSED)[0] for n in range(50)}
    assert seen == {"p1", "p3"}


@pytest.mark.parametrize(
    "raw",
    [
        {"reasons": [r.value for r in Reason] * 2},
        {"reasons": ["bored"]},
        {"offers": {"switched_service": [{"offer_id": "d", "kind": "discount", "percent": 10, "months": 1}]}},
        {"offers": {"unused": [{"offer_id": "p", "kind": "pause", "months": 4}]}},
        {"offers": {"too_expensive": [{"offer_id": "c", "kind": "cheaper_plan", "plan": "Lite", "price": 9.5}]}},
        {"holdout_percent": 80},
        {"retention_days": 30},
    ],
)
def test_flows_outside_the_rules_are_refused(raw):
    with pytest.raises(Invalid) as refused:
        contracts.parse_flow(raw)
    assert refused.value.code == "invalid_flow"


def test_continue_shows_the_offer_and_a_second_continue_changes_nothing():
    s = session(NO_HOLDOUT)
    change = rules.plan_continue(s, Answer(Reason.UNUSED), NOW)
    assert isinstance(change, Change) and change.session.offer.kind == "pause" and change.events == ()
    assert change.session.status is Status.OPEN and change.session.offer_shown_at == NOW
    again = rules.plan_continue(change.session, Answer(Reason.TOO_EXPENSIVE), NOW)
    assert isinstance(again, Settled) and again.session.offer.kind == "pause"


def test_continue_without_an_offer_cancels_at_once():
    change = rules.plan_continue(session(), Answer(), NOW)
    assert change.session.status is Status.CANCELLED and change.events == (rules.Event.COMPLETED,)


def test_a_session_is_never_both_saved_and_cancelled():
    shown = rules.plan_continue(session(NO_HOLDOUT), Answer(Reason.UNUSED), NOW).session
    saved = rules.plan_accept(shown, "pause-2", NOW).session
    assert isinstance(rules.plan_cancel(saved, None, NOW), Settled)
    cancelled = rules.plan_cancel(shown, None, NOW).session
    assert isinstance(rules.plan_accept(cancelled, "pause-2", NOW), Settled)
    assert rules.plan_cancel(shown, None, NOW).expected_version == shown.version


def test_an_offer_not_shown_cannot_be_accepted():
    with pytest.raises(rules.Refused):
        rules.plan_accept(session(), "pause-2", NOW)


def test_the_answer_is_kept_from_the_first_time_it_was_given():
    shown = rules.plan_continue(session(NO_HOLDOUT), Answer(Reason.UNUSED, "busy"), NOW).session
    cancelled = rules.plan_cancel(shown, Answer(Reason.OTHER), NOW).session
    assert cancelled.answer == Answer(Reason.UNUSED, "busy")


def test_undo_only_before_the_effective_date():
    cancelled = rules.plan_cancel(session(), None, NOW).session
    assert rules.plan_undo(cancelled, NOW).session.status is Status.UNDONE
    with pytest.raises(rules.Refused):
        rules.plan_undo(cancelled, datetime(2026, 12, 20, tzinfo=UTC))
    with pytest.raises(rules.Refused):
        rules.plan_undo(session(), NOW)


def test_answers_are_optional_but_only_the_flows_reasons():
    flow = contracts.parse_flow({"reasons": ["too_expensive", "other"]})
    assert rules.parse_answer(flow, "", "") == Answer()
    with pytest.raises(rules.CancelRuleError):
        rules.parse_answer(flow, "unused", None)


def test_a_comment_keeps_its_text_lines_and_tabs_but_no_control_characters():
    flow = contracts.parse_flow({"reasons": ["other"]})
    typed = "a\x00b\r\nline two\tend\x1b[31m\x7f\x85 ไทย"
    assert rules.parse_answer(flow, "other", typed).comment == "ab\nline two\tend[31m ไทย"
    assert rules.parse_answer(flow, "other", "\x00\x01 \x02").comment is None


def test_signed_links_expire_and_rotate_and_are_bound_to_their_purpose():
    token = signed_links.sign(KEYS, "k1", "page", ("sess1",), NOW + timedelta(hours=1))
    assert signed_links.verify(KEYS, "page", 1, token, NOW).fields == ("sess1",)
    assert signed_links.verify({"k1": KEYS["k1"]}, "page", 1, token, NOW).key_id == "k1"
    with pytest.raises(signed_links.ExpiredLink):
        signed_links.verify(KEYS, "page", 1, token, NOW + timedelta(hours=2))
    for wrong in ((KEYS, "undo", token), ({"k2": KEYS["k2"]}, "page", token), (KEYS, "page", token[:-1] + "A")):
        with pytest.raises(signed_links.InvalidLink):
            signed_links.verify(wrong[0], wrong[1], 1, wrong[2], NOW)
    later = token.replace(
        str(int((NOW + timedelta(hours=1)).timestamp())), str(int((NOW + timedelta(days=9)).timestamp()))
    )
    with pytest.raises(signed_links.InvalidLink):
        signed_links.verify(KEYS, "page", 1, later, NOW)


def test_the_effective_date_bounds_undo():
    assert session().undo_until() == datetime(2026, 12, 20, tzinfo=UTC)
    assert session(effective_date=date(2026, 12, 3).isoformat()).undo_until() <= NOW + timedelta(days=1)


@pytest.mark.parametrize("field", ["plan", "customer_id", "subscription_id"])
@pytest.mark.parametrize("value", ["\u0000", "Pro\u202e", "a\nb"])
def test_text_shown_on_the_page_or_kept_in_the_records_is_printable(field, value):
    with pytest.raises(Invalid) as refused:
        request(**{field: value})
    assert refused.value.code == "invalid_session"
