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
    assert contracts.webhook_url({"url": "https://hooks.example/x", "other": 1}) == "https://hooks.example/x"
    for bad in ({}, {"url": None}, {"url": 5}):
        with pytest.raises(Invalid) as refused:
            contracts.webhook_url(bad)
        assert refused.value.code == "invalid_webhook_url"
