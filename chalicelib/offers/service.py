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

from chalicelib.core.errors import Forbidden, Invalid, NotFound, TooMany, Unavailable
from chalicelib.core.ids import is_id
from chalicelib.core.observability import count
from chalicelib.core.settings import get_settings
from chalicelib.domain.coupons import (
    REFUSAL_MESSAGES,
    CodeState,
    Outcome,
    Refusal,
    Terms,
    TillRequest,
    estimated_value,
    plan_issue,
    plan_redeem,
    plan_rollback,
)
from chalicelib.domain.money import MoneyError, to_minor
from chalicelib.offers import decision, identity, site_cache
from chalicelib.offers.campaigns import Campaign, Variant
from chalicelib.offers.codes import new_code, normalize_code
from chalicelib.offers.decision import Decision, Dismissal, DismissHow, Visit
from chalicelib.offers.limits import SlidingWindow
from chalicelib.offers.site_cache import CachedSite
from chalicelib.storage import offers
from chalicelib.storage.offers import VisitorState
from chalicelib.storage.store import coupon_store
from chalicelib.storage.transactions import TransactionConflict
from chalicelib.storage.visitor_state import CampaignVisit

decisions_per_visitor = SlidingWindow()
decisions_per_ip = SlidingWindow()
ATTEMPTS = 5


@dataclass(frozen=True)
class IssuedOffer:
    code: str
    terms: Terms
    expires_at: datetime
    expires_in_seconds: int
    texts: dict


@dataclass(frozen=True)
class Answer:
    show: bool
    reason: str
    campaign_id: str | None = None
    variant_id: str | None = None
    offer: IssuedOffer | None = None
    message: dict | None = None  # a no-discount fallback: texts, no code


def _offer(variant: Variant, code: str, expires_at: datetime, now: datetime) -> IssuedOffer:
    seconds = max(0, int((expires_at - now).total_seconds()))
    return IssuedOffer(code, variant.offer.terms, expires_at, seconds, variant.texts)


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
    if origin is None:  # a browser always sends it with a POST; its absence is a script's request
        raise Forbidden("origin_required", "offers are only decided for pages of the site's allowed origins")
    if origin not in site.allowed_origins:
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
    if visit.customer_id:  # a claim until the site's secret is found to have signed it
        signed_by = site_cache.site(visit.site_key)
        secrets = signed_by.secrets if signed_by else ()
        visit = replace(visit, customer_id=identity.verified_customer(secrets, visit.customer_id, visit.customer_hash))
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
        visitor = coupon_store().visitor(visit.site_key, visit.visitor_id)
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
        offer = _offer(variant, existing.code, existing.expires_at, now)
        return Answer(True, "offer", campaign.campaign_id, variant.variant_id, offer)
    return _issue(campaign, variant, visit, visitor, ip_hash, now)


def _issue(
    campaign: Campaign, variant: Variant, visit: Visit, visitor: VisitorState | None, ip_hash: str | None, now: datetime
) -> Answer:
    terms = variant.offer.terms
    value = estimated_value(terms, _cart(visit), visit.currency)
    if terms.currency != campaign.budget_currency and campaign.limits.counts_value:
        value = None  # its value cannot be counted against the budget's currency
    state = visitor.state_of(campaign.campaign_id) if visitor else CampaignVisit()
    counters = plan_issue(campaign.limits, value, first_offer_to_visitor=state.arm is None)
    if isinstance(counters, Refusal):
        raise offers.IssueRefused(str(counters.outcome))
    code = new_code()
    expires_at = now + timedelta(minutes=variant.offer.expires_minutes)
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
    new_state = CodeState(
        code,
        visit.site_key,
        campaign.campaign_id,
        variant.variant_id,
        terms,
        campaign.till_rules(variant.offer),
        expires_at,
    )
    coupon_store().issue(
        new_state,
        visitor,
        counters,
        day=campaign.schedule.day(now),
        rate_key=f"RATE#{visit.site_key}#{ip_hash or 'unknown'}#{now:%Y%m%d%H%M}",
        rate_limit=get_settings().offer_issues_per_ip_per_minute,
        now=now,
    )
    count("CodesIssued", campaign_id=campaign.campaign_id)
    offer = _offer(variant, code, expires_at, now)
    return Answer(True, "offer", campaign.campaign_id, variant.variant_id, offer)


def _cart(visit: Visit) -> int | None:
    """The cart's value in minor units of its currency; None when it has none or is no amount of it."""
    if visit.currency is None:
        return None
    try:
        return to_minor(visit.cart_value, visit.currency)
    except MoneyError:
        return None


DISMISS_DEBOUNCE = timedelta(seconds=2)  # Esc and a close click of the same dialog are one dismissal


def record_dismissal(site: CachedSite, dismissal: Dismissal, now: datetime | None = None) -> bool:
    """The visitor closed the dialog: the campaign waits longer after each dismissal. A customer
    id counts only as the shop's server signed it; else it is this browser's own dismissal."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    how, campaign_id = dismissal.how, dismissal.campaign_id
    if campaign_id not in {c.campaign_id for c in site.campaigns}:
        raise NotFound("unknown_campaign", "no such campaign for this site")
    customer = identity.verified_customer(site.secrets, dismissal.customer_id, dismissal.customer_hash)
    who = state_id(site.site_key, dismissal.visitor_id, customer)
    for _ in range(ATTEMPTS):
        _, visitor = site_cache.site_and_visitor(site.site_key, who)
        visitor = _visitor(site.site_key, who, visitor, now)
        state = visitor.state_of(campaign_id)
        if (
            state.dismissed_at
            and now - state.dismissed_at < DISMISS_DEBOUNCE
            and not (how == DismissHow.NEVER and not state.never)
        ):
            return False
        dismissed = replace(
            state, dismissals=state.dismissals + 1, dismissed_at=now, never=state.never or how == DismissHow.NEVER
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
        raise TooMany("rate_limited", "too many events from this client; try again in a minute", retry_after=60)


def email_code(
    site: CachedSite,
    address: str,
    code: str | None,
    origin: str | None,
    ip_hash: str | None,
    now: datetime | None = None,
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
    address = usable_address(address)
    normalized = normalize_code(code)
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
    if send_offer_email(address, coupon.state()):
        offers.mark_coupon(coupon.site_key, coupon.code, coupon.campaign_id, coupon.variant_id, "claimed_at", now)
        count("OfferEmails", outcome="sent")


def coupon_for_site(code: str | None, site_key: str) -> offers.Coupon:
    """A code as a shop's page names it; unknown and other sites' codes answer the same."""
    normalized = normalize_code(code)
    coupon = offers.get_coupon(normalized) if normalized else None
    if coupon is None or coupon.site_key != site_key:
        raise NotFound("unknown_code", "no such code for this site")
    return coupon


def record_conversion(site: CachedSite, visitor_id: str) -> int:
    """Count a conversion for each arm (variant or holdout) the visitor was assigned, once per campaign."""
    _, visitor = site_cache.site_and_visitor(site.site_key, _checked_key(visitor_id, "visitor_id"))
    counted = 0
    for campaign_id, state in dict((visitor.campaigns if visitor else None) or {}).items():
        if state.arm and not state.converted:
            visitor.with_state(campaign_id, replace(state, converted=True))
            counted += offers.count_conversion(visitor, site.site_key, campaign_id, state.arm)
    return counted


def describe_code(code) -> CodeState:
    """Validation for any channel: the code as it is now. Changes nothing."""
    normalized = normalize_code(code)
    state = coupon_store().code(normalized) if normalized else None
    if state is None:
        raise NotFound("unknown_code", "no such code")
    return state


@dataclass(frozen=True)
class TillResult:
    """What a redemption or rollback came to, with the code as it now is. A refusal names its
    rule (`outcome`) and says why (`message`); `capped_by` names the cap that cut a discount."""

    outcome: Outcome
    code: CodeState
    message: str | None = None
    capped_by: str | None = None

    @property
    def refused(self) -> bool:
        return self.message is not None


def _settle(code: CodeState, plan_for, as_read: bool = True) -> TillResult:
    """Plan on the code and commit in one transaction; when another till changed the code
    meanwhile, the failed transaction hands back its state and the plan is made again. A code
    known from a ticket (`as_read` False) is read before a refusal or a no-op is answered: only
    a write's condition proves what a ticket claims about the redemption."""
    for _ in range(ATTEMPTS):
        planned = plan_for(code)
        unwritten = isinstance(planned, Refusal) or planned.new is planned.code
        if unwritten and not as_read:
            code, as_read = describe_code(code.code), True
            continue
        if isinstance(planned, Refusal):
            return TillResult(planned.outcome, code, planned.message)
        if planned.new is planned.code:  # settled before (the same order again): nothing to write
            return TillResult(planned.outcome, code)
        try:
            committed = coupon_store().commit_code_change(planned)
        except TransactionConflict:
            code, as_read = coupon_store().code(code.code) or code, True
            continue
        if committed is None:
            return TillResult(planned.outcome, planned.new, capped_by=planned.capped_by)
        if isinstance(committed, offers.CodeChanged):
            if committed.code is None:
                raise NotFound("unknown_code", "no such code")
            code, as_read = committed.code, True
            continue
        return TillResult(committed, code, REFUSAL_MESSAGES.get(committed, str(committed)))
    raise Unavailable("unavailable", "the code could not be settled after retries", retry_after=2)


def _known_code(code, ticket: str | None) -> tuple[CodeState, bool]:
    """(the code, whether it was read): as the till's ticket says it was (no read), or as read
    when there is no valid ticket."""
    from chalicelib.offers import tickets

    normalized = normalize_code(code)
    known = tickets.unseal(ticket, normalized) if ticket is not None and normalized else None
    return (known, False) if known else (describe_code(code), True)


def redeem_code(code, request: TillRequest, now: datetime | None = None, ticket: str | None = None) -> TillResult:
    """Redeem exactly once. The rules the code carries are checked here, at the till, whatever the
    browser showed; a customer id is hashed (per site) before anything else sees it. With the
    ticket of the code's validation, one round trip."""
    now = now or datetime.now(UTC)
    state, as_read = _known_code(code, ticket)
    if request.customer:
        request = replace(request, customer=state_id(state.site_key, None, request.customer))
    return _settle(state, lambda current: plan_redeem(current, request, now), as_read)


def roll_back_code(code, order_ref: str, now: datetime | None = None, ticket: str | None = None) -> TillResult:
    """The order was cancelled or refunded within the window: the code can be used again and
    what the redemption took is given back, once, with the rollback kept on the code for audit.
    With the ticket of the redemption, one round trip."""
    now = now or datetime.now(UTC)
    state, as_read = _known_code(code, ticket)
    result = _settle(state, lambda current: plan_rollback(current, order_ref, now), as_read)
    if result.outcome == Outcome.ROLLED_BACK:
        count("Rollbacks", campaign_id=result.code.campaign_id)
    return result
