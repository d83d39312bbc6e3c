"""Deciding and issuing exit-intent offers, validating and redeeming their codes.

A decision costs at most two DynamoDB round trips: one read (the visitor's state, with the
site's configuration when the container has not cached it) and, only when something changes,
one transaction.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from chalicelib.core.errors import Conflict, Forbidden, Invalid, NotFound, TooMany, Unavailable
from chalicelib.core.ids import is_id
from chalicelib.core.observability import count
from chalicelib.core.settings import get_settings
from chalicelib.offers import decision, site_cache
from chalicelib.offers.campaigns import Campaign, Variant
from chalicelib.offers.codes import new_code, normalize_code
from chalicelib.offers.decision import Decision, Visit
from chalicelib.offers.limits import SlidingWindow
from chalicelib.offers.site_cache import CachedSite
from chalicelib.storage import offers
from chalicelib.storage.offers import VisitorState
from chalicelib.storage.transactions import TransactionConflict
from chalicelib.storage.visitor_state import CampaignVisit

decisions_per_visitor = SlidingWindow()
decisions_per_ip = SlidingWindow()
ATTEMPTS = 5


@dataclass(frozen=True)
class Answer:
    show: bool
    reason: str
    campaign_id: str | None = None
    variant_id: str | None = None
    coupon: dict | None = None
    message: dict | None = None  # a no-discount fallback: texts, no code

    def as_dict(self) -> dict:
        body = {"show": self.show, "reason": self.reason}
        if self.campaign_id:
            body["campaign_id"] = self.campaign_id
        if self.variant_id:
            body["variant_id"] = self.variant_id
        if self.coupon:
            body["offer"] = self.coupon
        if self.message:
            body["message"] = {"texts": self.message}
        return body


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offer_body(variant: Variant, code: str, expires_at: datetime, now: datetime) -> dict:
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


def _checked_key(value, name: str) -> str:
    if not is_id(value):
        raise Invalid("bad_field", f"{name} must be 1-64 letters, digits, '-' or '_'")
    return value


def site_for_page(site_key, origin: str | None) -> CachedSite:
    """The site a shop's page names, checked against the page's origin."""
    site = site_cache.site(_checked_key(site_key, "site_key"))
    check_site(site, origin)
    return site


def check_site(site: CachedSite | None, origin: str | None) -> None:
    if site is None or not site.enabled:
        raise NotFound("unknown_site", "this site key is unknown or disabled")
    if origin is not None and origin not in site.allowed_origins:
        raise Forbidden("origin_not_allowed", "this page's origin is not allowed for the site key")


def state_id(site_key: str, visitor_id: str | None, customer_id: str | None) -> str | None:
    """Whose offer state this is: a signed-in customer's (the same on every device; the shop's id
    hashed, never stored in clear), else the browser's visitor id."""
    if not customer_id:
        return visitor_id
    import hashlib
    import hmac

    digest = hmac.new(get_settings().ip_hash_key, f"{site_key}|{customer_id}".encode(), hashlib.sha256).hexdigest()
    return f"c-{digest[:40]}"


def decide_offer(visit: Visit, origin: str | None, ip_hash: str | None, now: datetime | None = None) -> Answer:
    now = (now or datetime.now(UTC)).replace(microsecond=0)  # whole seconds, as stored and shown
    settings = get_settings()
    if visit.visitor_id is not None and visit.customer_id:
        visit = replace(visit, visitor_id=state_id(visit.site_key, visit.visitor_id, visit.customer_id))
    if visit.visitor_id is None:  # no visitor id: a bot, answered once the site is checked
        site, visitor = site_cache.site(visit.site_key), None
    else:
        site, visitor = site_cache.site_and_visitor(visit.site_key, visit.visitor_id)
    check_site(site, origin)
    if decision.is_bot(visit):
        return Answer(False, "bot")
    if not (
        decisions_per_visitor.allow(
            f"{visit.site_key}|{visit.visitor_id}", limit=settings.offer_decisions_per_visitor_per_minute
        )
        and decisions_per_ip.allow(f"{visit.site_key}|{ip_hash}", limit=settings.offer_decisions_per_ip_per_minute)
    ):
        return Answer(False, "rate_limited")
    campaigns, spent_ids = list(site.campaigns), []
    for attempt in range(ATTEMPTS + len(campaigns)):
        states = dict(visitor.campaigns or {}) if visitor else {}
        decided = decision.decide(campaigns, visit, states, now)
        if spent_ids and not decided.show and decided.reason != "holdout":
            return Answer(False, "budget_spent", spent_ids[0])
        try:
            return _act(decided, visit, visitor, ip_hash, now)
        except offers.IssueRefused as refused:
            if refused.reason == "rate_limited":
                return Answer(False, refused.reason, decided.campaign.campaign_id)
            if refused.reason == "budget_spent":
                spent = decided.campaign
                count("BudgetSpent", campaign_id=spent.campaign_id)
                if spent.fallback_texts:
                    return Answer(True, "fallback", spent.campaign_id, message=spent.fallback_texts)
                # A spent campaign must not silence the site: the next eligible one is asked.
                campaigns = [c for c in campaigns if c.campaign_id != spent.campaign_id]
                spent_ids.append(spent.campaign_id)
                continue
            # visitor_changed (a parallel request for the same visitor), code_taken, conflict: read again
        except TransactionConflict:
            pass
        time.sleep(random.uniform(0, 0.02 * 2 ** min(attempt, 4)))  # noqa: S311  (jitter, not secrecy)
        visitor = offers.site_and_visitor(visit.site_key, visit.visitor_id, with_site=False)[1]
    raise Unavailable("unavailable", "the offer could not be settled after retries", retry_after=2)


def _visitor(site_key: str, who: str, visitor: VisitorState | None, now: datetime) -> VisitorState:
    """The visitor's state as read, or a new one; kept `VISITOR_RETENTION` from now either way."""
    visitor = visitor or offers.new_visitor(site_key, who)
    visitor.ttl = now + offers.VISITOR_RETENTION
    return visitor


def _act(decided: Decision, visit: Visit, visitor: VisitorState | None, ip_hash: str | None, now: datetime) -> Answer:
    if decided.reason == "holdout":
        campaign_id = decided.campaign.campaign_id
        state = visitor.state_of(campaign_id) if visitor else CampaignVisit()
        if state.arm is None:
            visitor = _visitor(visit.site_key, visit.visitor_id, visitor, now).with_state(
                campaign_id, replace(state, arm="holdout")
            )
            if not offers.record_holdout(visitor, visit.site_key, campaign_id):
                raise offers.IssueRefused("visitor_changed")
        return Answer(False, "holdout", campaign_id)
    if not decided.show:
        return Answer(False, decided.reason, decided.campaign.campaign_id if decided.campaign else None)
    campaign, variant = decided.campaign, decided.variant
    if decided.existing is not None:
        existing = decided.existing
        body = _offer_body(variant, existing.code, existing.expires_at, now)
        return Answer(True, "offer", campaign.campaign_id, variant.variant_id, body)
    return _issue(campaign, variant, visit, visitor, ip_hash, now)


def _issue(
    campaign: Campaign, variant: Variant, visit: Visit, visitor: VisitorState | None, ip_hash: str | None, now: datetime
) -> Answer:
    value = campaign.estimated_value(variant.offer, visit.cart_value, visit.currency)
    if campaign.has_value_budget and value is None:
        raise offers.IssueRefused("budget_spent")  # its value cannot be counted against the cap
    code = new_code()
    expires_at = now + timedelta(minutes=variant.offer.expires_minutes)
    state = visitor.state_of(campaign.campaign_id) if visitor else CampaignVisit()
    issued = replace(
        state,
        offers=state.offers + 1,
        last_offer_at=now,
        code=code,
        expires_at=expires_at,
        variant_id=variant.variant_id,
        arm=state.arm or variant.variant_id,
    )
    visitor = _visitor(visit.site_key, visit.visitor_id, visitor, now).with_state(campaign.campaign_id, issued)
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
    budget = offers.Budget(
        campaign.total_codes,
        campaign.codes_per_day,
        day=campaign.schedule.day(now),
        value=value or 0.0,
        total_value=campaign.total_value,
        value_per_day=campaign.value_per_day,
    )
    offers.issue(
        coupon,
        visitor,
        budget,
        first_offer_to_visitor=state.arm is None,
        rate_key=f"RATE#{visit.site_key}#{ip_hash or 'unknown'}#{now:%Y%m%d%H%M}",
        rate_limit=get_settings().offer_issues_per_ip_per_minute,
        now=now,
    )
    count("CodesIssued", campaign_id=campaign.campaign_id)
    return Answer(True, "offer", campaign.campaign_id, variant.variant_id, _offer_body(variant, code, expires_at, now))


DISMISSALS = ("close", "esc", "never")
DISMISS_DEBOUNCE = timedelta(seconds=2)  # Esc and a close click of the same dialog are one dismissal


def record_dismissal(site: CachedSite, data: dict, now: datetime | None = None) -> bool:
    """The visitor closed the dialog: the campaign waits longer after each dismissal."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    how, campaign_id = data.get("how"), data.get("campaign_id")
    if not isinstance(how, str) or how not in DISMISSALS:
        raise Invalid("bad_field", f"how must be one of {', '.join(DISMISSALS)}")
    if not is_id(campaign_id) or campaign_id not in {c.campaign_id for c in site.campaigns}:
        raise NotFound("unknown_campaign", "no such campaign for this site")
    customer = data.get("customer_id")
    if customer is not None and (not isinstance(customer, str) or not 0 < len(customer) <= 128):
        raise Invalid("bad_field", "customer_id must be a string of at most 128 characters")
    who = state_id(site.site_key, _checked_key(data.get("visitor_id"), "visitor_id"), customer)
    for _ in range(ATTEMPTS):
        _, visitor = site_cache.site_and_visitor(site.site_key, who)
        visitor = _visitor(site.site_key, who, visitor, now)
        state = visitor.state_of(campaign_id)
        if (
            state.dismissed_at
            and now - state.dismissed_at < DISMISS_DEBOUNCE
            and not (how == "never" and not state.never)
        ):
            return False
        dismissed = replace(
            state, dismissals=state.dismissals + 1, dismissed_at=now, never=state.never or how == "never"
        )
        if offers.record_dismissal(visitor.with_state(campaign_id, dismissed), site.site_key, campaign_id, state.arm):
            count("OfferDismissals", how=how)
            return True
    raise Unavailable("unavailable", "the dismissal could not be stored after retries", retry_after=2)


events_per_ip = SlidingWindow()


def allow_event(site_key: str, ip_hash: str | None) -> None:
    """Beacons are cheap to forge: a client sending too many is slowed down (per container)."""
    limit = get_settings().offer_events_per_ip_per_minute
    if not events_per_ip.allow(f"{site_key}|{ip_hash}", limit=limit):
        raise TooMany("rate_limited", "too many events from this client; try again in a minute")


def email_code(
    site: CachedSite, data: dict, origin: str | None, ip_hash: str | None, now: datetime | None = None
) -> None:
    """Send the code to an address the visitor typed, used for this one email and not stored.
    Only from a page of the site's own origins, and limited per code, per client and per site,
    so the shop's sending identity is no relay. An unknown or spent code, and an address that
    bounced or complained, get the same answer as a sent one: the endpoint tells nobody which
    codes exist or which addresses are suppressed."""
    from chalicelib.offers.email import send_offer_email, usable_address

    now = now or datetime.now(UTC)
    if origin is None:
        raise Forbidden("origin_required", "emailing a code is only possible from the shop's own pages")
    address = usable_address(data.get("email"))
    normalized = normalize_code(data.get("code"))
    coupon = offers.get_coupon(normalized) if normalized else None
    if coupon is not None and coupon.site_key != site.site_key:
        coupon = None
    settings = get_settings()
    limits = offers.EmailLimits(
        settings.offer_emails_per_code, settings.offer_emails_per_ip_per_hour, settings.offer_emails_per_site_per_hour
    )
    # Counted per code whether or not the code exists, so a guessed one meets the same limit.
    if not offers.reserve_email(site.site_key, normalized, ip_hash, limits, now):
        raise TooMany("rate_limited", "enough emails were asked for just now; copy the code instead")
    if coupon is None or coupon.redeemed_at is not None or coupon.expires_at <= now:
        count("OfferEmails", outcome="not_sent")
        return
    if send_offer_email(address, coupon):
        offers.mark_coupon(coupon.site_key, coupon.code, coupon.campaign_id, coupon.variant_id, "claimed_at", now)
        count("OfferEmails", outcome="sent")


def coupon_for_site(code, site_key: str) -> offers.Coupon:
    """A code as a shop's page names it; unknown and other sites' codes answer the same."""
    normalized = normalize_code(code)
    coupon = offers.get_coupon(normalized) if normalized else None
    if coupon is None or coupon.site_key != site_key:
        raise NotFound("unknown_code", "no such code for this site")
    return coupon


def record_conversion(site: CachedSite, visitor_id) -> int:
    """Count a conversion for each arm (variant or holdout) the visitor was assigned, once per campaign."""
    _, visitor = site_cache.site_and_visitor(site.site_key, _checked_key(visitor_id, "visitor_id"))
    counted = 0
    for campaign_id, state in dict((visitor.campaigns if visitor else None) or {}).items():
        if state.arm and not state.converted:
            visitor.with_state(campaign_id, replace(state, converted=True))
            counted += offers.count_conversion(visitor, site.site_key, campaign_id, state.arm)
    return counted


def describe_code(code, now: datetime | None = None) -> dict:
    """Validation for any channel: valid now or not, for what, until when. Changes nothing."""
    normalized = normalize_code(code)
    coupon = offers.get_coupon(normalized) if normalized else None
    if coupon is None:
        raise NotFound("unknown_code", "no such code")
    return _describe(coupon, now or datetime.now(UTC))


def _describe(coupon: offers.Coupon, now: datetime) -> dict:
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
        "store_id": coupon.store_id,
        "rollbacks": len(coupon.rollbacks or []),
    }


REDEEM_STATUS = {
    "redeemed": 200,
    "already_redeemed_same_order": 200,
    "already_redeemed": 409,
    "customer_limit": 409,
    "expired": 410,
}
CHANNELS = ("web", "store", "phone", "app")


def _short_text(value, name: str, limit: int = 100, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit or not value.isprintable():
        raise Invalid(f"bad_{name}", f"{name} must be 1-{limit} printable characters")
    return value


def _rules_of(coupon: offers.Coupon):
    from chalicelib.offers.campaigns import RedemptionRules

    site = site_cache.site(coupon.site_key)
    campaign = next((c for c in (site.campaigns if site else ()) if c.campaign_id == coupon.campaign_id), None)
    return campaign.redemption if campaign else RedemptionRules()


def redeem_code(
    code,
    order_ref,
    channel,
    now: datetime | None = None,
    order_value=None,
    currency=None,
    store_id=None,
    customer_id=None,
    first_order=None,
) -> tuple[str, dict]:
    """(outcome, the code as it now is). The campaign's redemption rules are checked here, at the
    till, whatever the browser showed: channel, store, minimum order, first order, and a limit
    per customer (the shop's customer id, hashed, never stored in clear)."""
    now = now or datetime.now(UTC)
    order_ref = _short_text(order_ref, "order_ref", required=True)
    if not isinstance(channel, str) or channel not in CHANNELS:
        raise Invalid("bad_channel", f"channel must be one of {', '.join(CHANNELS)}")
    store_id = _short_text(store_id, "store_id", 64)
    customer_id = _short_text(customer_id, "customer_id", 128)
    if order_value is not None and (
        isinstance(order_value, bool) or not isinstance(order_value, int | float) or not 0 <= order_value <= 1e7
    ):
        raise Invalid("bad_order_value", "order_value must be a number from 0 to 10,000,000")
    if currency is not None and not isinstance(currency, str):
        raise Invalid("bad_currency", "currency must be an ISO 4217 code")
    if first_order is not None and not isinstance(first_order, bool):
        raise Invalid("bad_first_order", "first_order must be true or false")
    normalized = normalize_code(code)
    coupon = offers.get_coupon(normalized) if normalized else None
    if coupon is None:
        raise NotFound("unknown_code", "no such code")
    rules = _rules_of(coupon)
    if channel not in rules.channels:
        raise Conflict("channel_not_allowed", f"this code is valid only for {', '.join(rules.channels)}")
    if rules.store_ids and channel == "store" and store_id not in rules.store_ids:
        raise Conflict("store_not_allowed", "this code is not valid in this store")
    if rules.min_order_value:
        if order_value is None or (currency or "").upper() != rules.currency:
            raise Invalid("order_value_needed", f"send order_value and currency ({rules.currency}) for this code")
        if order_value < rules.min_order_value:
            raise Conflict(
                "order_too_small", f"this code needs an order of at least {rules.min_order_value:g} {rules.currency}"
            )
    if rules.first_time_only and first_order is not True:
        raise Conflict("first_order_only", "this code is for a customer's first order (send first_order: true)")
    if rules.per_customer and not customer_id:
        raise Invalid("customer_id_needed", "this code is limited per customer: send customer_id")
    customer = state_id(coupon.site_key, None, customer_id) if customer_id else None
    redemption = offers.Redemption(order_ref, channel, order_value, store_id, customer, rules.per_customer)
    outcome, current = offers.redeem(coupon, redemption, now)
    if outcome == "already_redeemed":
        return outcome, _private(current, now, outcome)
    return outcome, {**_describe(current, now), "outcome": outcome}


def _private(coupon: offers.Coupon, now: datetime, outcome: str) -> dict:
    """Another order has it: this till learns that, not which order, channel, store or time."""
    body = {**_describe(coupon, now), "outcome": outcome}
    for private in ("order_ref", "channel", "redeemed_at", "store_id"):
        body.pop(private, None)
    return body


def roll_back_code(code, order_ref, now: datetime | None = None) -> dict:
    """The order was cancelled or refunded within the campaign's window: the code can be used
    again and the counts return, once, with the rollback kept on the code for audit."""
    now = now or datetime.now(UTC)
    order_ref = _short_text(order_ref, "order_ref", required=True)
    normalized = normalize_code(code)
    coupon = offers.get_coupon(normalized) if normalized else None
    if coupon is None:
        raise NotFound("unknown_code", "no such code")
    if coupon.redeemed_at is None or coupon.order_ref != order_ref:
        raise Conflict("not_redeemed_by_this_order", "this code is not redeemed by this order")
    rules = _rules_of(coupon)
    if now > coupon.redeemed_at + timedelta(hours=rules.rollback_hours):
        raise Conflict(
            "rollback_window_passed", f"a redemption can be rolled back within {rules.rollback_hours:g} hours"
        )
    if not offers.roll_back(coupon, rules.per_customer, now):
        raise Conflict("not_redeemed_by_this_order", "this redemption was rolled back already")
    count("Rollbacks", campaign_id=coupon.campaign_id)
    rolled_back = {"order_ref": coupon.order_ref, "rolled_back_at": now.isoformat()}
    coupon.rollbacks = [*(coupon.rollbacks or []), rolled_back]
    coupon.redeemed_at = coupon.order_ref = coupon.channel = coupon.store_id = None
    return {**_describe(coupon, now), "outcome": "rolled_back"}
