"""Deciding and issuing exit-intent offers, validating and redeeming their codes.

A decision costs at most two DynamoDB round trips: one read (the visitor's state, with the
site's configuration when the container has not cached it) and, only when something changes,
one transaction.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chalicelib import offer_decision, site_cache
from chalicelib.campaigns import Campaign, Variant
from chalicelib.errors import BadRequest, ServiceUnavailable
from chalicelib.observability import count
from chalicelib.offer_decision import CampaignState, Decision, Visit
from chalicelib.rate_limits import SlidingWindow
from chalicelib.storage import offers
from chalicelib.storage.transactions import TransactionConflict

ISSUES_PER_IP_PER_MINUTE = int(os.environ.get("OFFER_ISSUES_PER_IP_PER_MINUTE", "30"))
decisions_per_visitor = SlidingWindow(int(os.environ.get("OFFER_DECISIONS_PER_VISITOR_PER_MINUTE", "20")))
decisions_per_ip = SlidingWindow(int(os.environ.get("OFFER_DECISIONS_PER_IP_PER_MINUTE", "600")))
ATTEMPTS = 5


@dataclass(frozen=True)
class Answer:
    show: bool
    reason: str
    campaign_id: str | None = None
    variant_id: str | None = None
    coupon: dict | None = None

    def as_dict(self) -> dict:
        body = {"show": self.show, "reason": self.reason}
        if self.campaign_id:
            body["campaign_id"] = self.campaign_id
        if self.variant_id:
            body["variant_id"] = self.variant_id
        if self.coupon:
            body["offer"] = self.coupon
        return body


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _states(visitor) -> dict[str, CampaignState]:
    states = {}
    for campaign_id, raw in ((visitor.campaigns if visitor else None) or {}).items():
        states[campaign_id] = CampaignState(
            offers=raw.get("offers", 0),
            last_offer_at=datetime.fromtimestamp(raw["last"], UTC) if raw.get("last") else None,
            code=raw.get("code"),
            expires_at=datetime.fromtimestamp(raw["exp"], UTC) if raw.get("exp") else None,
            variant_id=raw.get("variant"),
            arm=raw.get("arm"),
        )
    return states


def _offer_body(campaign: Campaign, variant: Variant, code: str, expires_at: datetime, now: datetime) -> dict:
    offer = variant.offer
    return {
        "code": code,
        "kind": offer.kind,
        "value": offer.value,
        "currency": offer.currency,
        "expires_at": iso(expires_at),
        "expires_in_seconds": max(0, int((expires_at - now).total_seconds())),
        "texts": variant.texts,
    }


def load_site(site_key: str, visitor_id: str | None):
    """The site (from the container cache when fresh) and the visitor's state: one round trip at most."""
    from chalicelib.tokens import ID_PATTERN

    for value, name in ((site_key, "site_key"), (visitor_id, "visitor_id")):
        if value is not None and (not isinstance(value, str) or not ID_PATTERN.match(value)):
            raise BadRequest("bad_field", f"{name} must be 1-64 letters, digits, '-' or '_'")
    hit, site = site_cache.cached(site_key)
    if visitor_id is None:
        if not hit:
            site = site_cache.remember(site_key, offers.get_site(site_key))
        return site, None
    item, visitor = offers.site_and_visitor(site_key, visitor_id, with_site=not hit)
    if not hit:
        site = site_cache.remember(site_key, item)
    return site, visitor


def check_site(site, origin: str | None):
    if site is None or not site.enabled:
        raise BadRequest("unknown_site", "this site key is unknown or disabled", 404)
    if origin is not None and origin not in site.allowed_origins:
        raise BadRequest("origin_not_allowed", "this page's origin is not allowed for the site key", 403)


def decide_offer(visit: Visit, origin: str | None, ip_hash: str | None, now: datetime | None = None) -> Answer:
    now = (now or datetime.now(UTC)).replace(microsecond=0)  # whole seconds, as stored and shown
    site, visitor = load_site(visit.site_key, visit.visitor_id)
    check_site(site, origin)
    if offer_decision.is_bot(visit):
        return Answer(False, "bot")
    if not (
        decisions_per_visitor.allow(f"{visit.site_key}|{visit.visitor_id}")
        and decisions_per_ip.allow(f"{visit.site_key}|{ip_hash}")
    ):
        return Answer(False, "rate_limited")
    for attempt in range(ATTEMPTS):
        decision = offer_decision.decide(list(site.campaigns), visit, _states(visitor), now)
        try:
            return _act(decision, visit, visitor, ip_hash, now)
        except offers.IssueRefused as refused:
            if refused.reason in ("budget_spent", "rate_limited"):
                return Answer(False, refused.reason, decision.campaign.campaign_id)
            # visitor_changed (a parallel request for the same visitor), code_taken, conflict: read again
        except TransactionConflict:
            pass
        time.sleep(random.uniform(0, 0.02 * 2**attempt))  # noqa: S311  (jitter, not secrecy)
        visitor = offers.site_and_visitor(visit.site_key, visit.visitor_id, with_site=False)[1]
    raise ServiceUnavailable("the offer could not be settled after retries")


def _new_visitor(visit: Visit, visitor, now: datetime):
    if visitor is None:
        visitor = offers.VisitorState(offers.visitor_key(visit.site_key, visit.visitor_id), "STATE", campaigns={})
    visitor.ttl = now + offers.VISITOR_RETENTION
    return visitor


def _act(decision: Decision, visit: Visit, visitor, ip_hash: str | None, now: datetime) -> Answer:
    if decision.reason == "holdout":
        campaign_id = decision.campaign.campaign_id
        state = ((visitor.campaigns if visitor else None) or {}).get(campaign_id, {})
        if state.get("arm") is None:
            visitor = _new_visitor(visit, visitor, now)
            visitor.campaigns = {**(visitor.campaigns or {}), campaign_id: {**state, "arm": "holdout"}}
            if not offers.record_holdout(visitor, visit.site_key, campaign_id):
                raise offers.IssueRefused("visitor_changed")
        return Answer(False, "holdout", campaign_id)
    if not decision.show:
        return Answer(False, decision.reason, decision.campaign.campaign_id if decision.campaign else None)
    campaign, variant = decision.campaign, decision.variant
    if decision.existing is not None:
        existing = decision.existing
        return Answer(
            True,
            "offer",
            campaign.campaign_id,
            variant.variant_id,
            _offer_body(campaign, variant, existing.code, existing.expires_at, now),
        )
    return _issue(campaign, variant, visit, visitor, ip_hash, now)


def _issue(campaign: Campaign, variant: Variant, visit: Visit, visitor, ip_hash: str | None, now: datetime) -> Answer:
    from chalicelib.coupon_codes import new_code

    code = new_code()
    expires_at = now + timedelta(minutes=variant.offer.expires_minutes)
    state = ((visitor.campaigns if visitor else None) or {}).get(campaign.campaign_id, {})
    visitor = _new_visitor(visit, visitor, now)
    visitor.campaigns = {
        **(visitor.campaigns or {}),
        campaign.campaign_id: {
            **state,
            "offers": state.get("offers", 0) + 1,
            "last": int(now.timestamp()),
            "code": code,
            "exp": int(expires_at.timestamp()),
            "variant": variant.variant_id,
            "arm": state.get("arm") or variant.variant_id,
        },
    }
    coupon = offers.Coupon(
        offers.code_key(code),
        "CODE",
        code=code,
        site_key=visit.site_key,
        campaign_id=campaign.campaign_id,
        variant_id=variant.variant_id,
        kind=variant.offer.kind,
        value=variant.offer.value,
        currency=variant.offer.currency,
        issued_at=now,
        expires_at=expires_at,
        ttl=expires_at + offers.CODE_RETENTION,
    )
    rate_key = f"RATE#{visit.site_key}#{ip_hash or 'unknown'}#{now:%Y%m%d%H%M}"
    offers.issue(
        coupon,
        visitor,
        offers.Budget(campaign.total_codes, campaign.codes_per_day),
        first_offer_to_visitor=state.get("arm") is None,
        rate_key=rate_key,
        rate_limit=ISSUES_PER_IP_PER_MINUTE,
        now=now,
    )
    count("CodesIssued", campaign_id=campaign.campaign_id)
    return Answer(
        True, "offer", campaign.campaign_id, variant.variant_id, _offer_body(campaign, variant, code, expires_at, now)
    )


def describe_code(code: str, now: datetime | None = None) -> dict:
    """Validation for any channel: valid now or not, for what, until when. Changes nothing."""
    from chalicelib.coupon_codes import normalize_code

    normalized = normalize_code(code)
    coupon = offers.get_coupon(normalized) if normalized else None
    if coupon is None:
        raise BadRequest("unknown_code", "no such code", 404)
    now = now or datetime.now(UTC)
    status = "redeemed" if coupon.redeemed_at else ("expired" if coupon.expires_at <= now else "valid")
    return {
        "code": coupon.code,
        "status": status,
        "valid": status == "valid",
        "kind": coupon.kind,
        "value": coupon.value,
        "currency": coupon.currency,
        "campaign_id": coupon.campaign_id,
        "site_key": coupon.site_key,
        "expires_at": iso(coupon.expires_at),
        "redeemed_at": iso(coupon.redeemed_at) if coupon.redeemed_at else None,
        "order_ref": coupon.order_ref,
        "channel": coupon.channel,
    }


REDEEM_STATUS = {"redeemed": 200, "already_redeemed_same_order": 200, "already_redeemed": 409, "expired": 410}


def redeem_code(code: str, order_ref, channel, now: datetime | None = None) -> tuple[int, dict]:
    from chalicelib.coupon_codes import normalize_code

    if not isinstance(order_ref, str) or not 0 < len(order_ref) <= 100:
        raise BadRequest("bad_order_ref", "order_ref is required (at most 100 characters)")
    if channel not in ("web", "store", "phone", "app"):
        raise BadRequest("bad_channel", "channel must be one of web, store, phone, app")
    normalized = normalize_code(code)
    if normalized is None:
        raise BadRequest("unknown_code", "no such code", 404)
    outcome, _ = offers.redeem(normalized, order_ref, channel, now or datetime.now(UTC))
    if outcome == "unknown":
        raise BadRequest("unknown_code", "no such code", 404)
    body = describe_code(normalized, now)
    body["outcome"] = outcome
    return REDEEM_STATUS[outcome], body
