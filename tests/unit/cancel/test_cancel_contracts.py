"""The cancellation flow's contracts: what a business's server sends is checked by the models
(refusals keep their codes and name the field), the domain's rules decide what ties fields
together, and a flow as stored reads back as the flow that was set, without the models."""

from datetime import UTC, datetime

import pytest

from chalicelib.cancel import contracts
from chalicelib.core.errors import Invalid
from chalicelib.domain import cancel as rules

TODAY = datetime(2026, 12, 3, tzinfo=UTC).date()
SESSION = {
    "business": "acme",
    "customer_id": "cus_1",
    "subscription_id": "sub_1",
    "plan": "Pro",
    "price": 1999,
    "currency": "usd",
    "return_url": "https://acme.example/account",
    "effective_date": "2026-12-20",
}
FLOW = {
    "reasons": ["too_expensive", "unused", "other"],
    "offers": {
        "too_expensive": [
            {"offer_id": "d", "kind": "discount", "percent": 20, "months": 2},
            {"offer_id": "c", "kind": "cheaper_plan", "plan": "Lite", "price": 500},
        ],
        "unused": [{"offer_id": "p", "kind": "pause", "months": 3}],
    },
    "holdout_percent": 5,
    "budget": 100,
    "embed_origins": ["https://Shop.example:443/", "https://shop.example"],
}


def test_a_flow_as_stored_reads_back_as_the_flow_that_was_set():
    flow = contracts.parse_flow(FLOW)
    assert flow.embed_origins == ("https://shop.example",)
    assert flow.offers[rules.Reason.TOO_EXPENSIVE][1] == rules.SaveOffer(
        "c", rules.OfferKind.CHEAPER_PLAN, plan="Lite", price=500
    )
    assert rules.flow_from_raw(flow.to_raw()) == flow


def test_a_flow_stored_before_embed_origins_and_retention_existed_takes_their_defaults():
    stored = {k: v for k, v in rules.DEFAULT_FLOW.to_raw().items() if k not in ("embed_origins", "retention_days")}
    assert rules.flow_from_raw(stored) == rules.DEFAULT_FLOW


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"holdout_percent": 80}, "holdout_percent"),
        ({"holdout_percent": True}, "holdout_percent"),
        ({"budget": 2.5}, "budget"),
        ({"reasons": []}, "reasons"),
        ({"offers": {"unused": [{"offer_id": "p p", "kind": "pause", "months": 1}]}}, "offers.unused[0].offer_id"),
        ({"offers": {"unused": [{"offer_id": "p", "kind": "gift", "months": 1}]}}, "offers.unused[0].kind"),
        ({"embed_origins": ["https://shop.example/page"]}, "embed_origins[0]"),
    ],
)
def test_a_flow_refusal_is_invalid_flow_and_names_the_field(raw, field):
    with pytest.raises(Invalid) as refused:
        contracts.parse_flow(raw)
    assert refused.value.code == "invalid_flow" and refused.value.message.startswith(field)
    assert "pydantic" not in refused.value.message and "input_value" not in refused.value.message


def test_the_rules_across_fields_are_the_domains():
    for raw in (
        {"offers": {"other": [{"offer_id": "p", "kind": "pause", "months": 1}]}, "reasons": ["unused"]},
        {"offers": {"unused": [{"offer_id": "d", "kind": "discount", "percent": 0, "months": 1}]}},
        {"offers": {"unused": [{"offer_id": "c", "kind": "cheaper_plan", "plan": "Lite"}]}},
    ):
        with pytest.raises(Invalid) as refused:
            contracts.parse_flow(raw)
        with pytest.raises(rules.CancelRuleError) as rule:
            sent = contracts.CancelFlow.model_validate(raw)
            offers = {
                reason: tuple(
                    rules.save_offer(o.offer_id, rules.OfferKind(o.kind), o.percent, o.months, o.plan, o.price)
                    for o in arms
                )
                for reason, arms in sent.offers.items()
            }
            rules.build_flow(tuple(sent.reasons), offers)
        assert refused.value.message == str(rule.value)


def test_a_session_request_keeps_its_defaults_and_refusals():
    request = contracts.parse_session_request({**SESSION, "locale": None}, TODAY)
    assert (request.currency, request.locale, request.tenure_months) == ("USD", "en", 0)
    for bad, field in (
        ({"currency": "usd1"}, "currency"),
        ({"locale": "x" * 36}, "locale"),
        ({"price": "1999"}, "price"),
    ):
        with pytest.raises(Invalid) as refused:
            contracts.parse_session_request({**SESSION, **bad}, TODAY)
        assert refused.value.code == "invalid_session" and refused.value.message.startswith(field)


def test_the_webhook_url_is_a_string():
    assert contracts.webhook_url({"url": "https://hooks.example/x"}) == "https://hooks.example/x"
    for bad in ({}, {"url": None}, {"url": 5}, {"url": "https://hooks.example/x", "other": 1}):
        with pytest.raises(Invalid) as refused:
            contracts.webhook_url(bad)
        assert refused.value.code == "invalid_webhook_url"


PAUSE = {"offer_id": "p", "kind": "pause", "months": 1}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({**FLOW, "budgte": 5}, "budgte"),
        ({**FLOW, "holdout_precent": 0}, "holdout_precent"),
        ({"site_key": "x"}, "site_key"),
        ({"offers": {"unused": [{**PAUSE, "monhts": 3}]}}, "offers.unused[0].monhts"),
        ({"offers": {"unused": [{**PAUSE, "percent": 50}]}}, "percent"),
        ({"offers": {"unused": [{**PAUSE, "plan": "Lite"}]}}, "plan"),
        (
            {"offers": {"unused": [{"offer_id": "d", "kind": "discount", "percent": 5, "months": 1, "price": 9}]}},
            "price",
        ),
        (
            {"offers": {"unused": [{"offer_id": "c", "kind": "cheaper_plan", "plan": "L", "price": 9, "months": 2}]}},
            "months",
        ),
    ],
)
def test_an_unknown_field_or_one_of_another_offer_kind_is_refused_by_name(raw, field):
    """A typo must not leave a default in place: an unlimited budget, the 10 % holdout."""
    with pytest.raises(Invalid) as refused:
        contracts.parse_flow(raw)
    assert refused.value.code == "invalid_flow" and field in refused.value.message


def test_a_flow_read_back_with_its_zero_fields_is_taken_again():
    flow = contracts.parse_flow(FLOW)
    assert contracts.parse_flow(flow.to_raw()) == flow


def test_a_session_with_an_unknown_field_is_refused_by_name():
    with pytest.raises(Invalid) as refused:
        contracts.parse_session_request({**SESSION, "extra": 1}, TODAY)
    assert refused.value.code == "invalid_session" and "extra" in refused.value.message


@pytest.mark.parametrize(
    "offers",
    [
        {"unused": [PAUSE, {**PAUSE, "months": 2}]},
        {"unused": [PAUSE, PAUSE]},
        {"unused": [PAUSE], "other": [{**PAUSE, "months": 2}]},
        {"unused": [PAUSE], "other": [{"offer_id": "p", "kind": "discount", "percent": 5, "months": 1}]},
    ],
)
def test_an_offer_id_names_one_offer(offers):
    """Reports, the webhook's `arm` and the Stripe recipe's coupon are keyed by the offer id."""
    with pytest.raises(Invalid) as refused:
        contracts.parse_flow({"offers": offers})
    assert refused.value.code == "invalid_flow" and "offer id p " in refused.value.message


def test_another_reason_may_show_the_same_offer_under_its_id():
    flow = contracts.parse_flow({"offers": {"unused": [PAUSE], "other": [PAUSE]}})
    assert flow.offers[rules.Reason.UNUSED] == flow.offers[rules.Reason.OTHER]


@pytest.mark.parametrize("locale", [[], {}, False, 0, True, 1, [1]])
def test_a_locale_that_is_not_a_string_is_refused_whatever_its_truth(locale):
    with pytest.raises(Invalid) as refused:
        contracts.parse_session_request({**SESSION, "locale": locale}, TODAY)
    assert refused.value.code == "invalid_session" and refused.value.message == "locale: input should be a valid string"


@pytest.mark.parametrize("sent", [{}, {"locale": None}, {"locale": ""}])
def test_a_session_without_a_locale_is_in_english(sent):
    assert contracts.parse_session_request({**SESSION, **sent}, TODAY).locale == "en"
