"""Whether to show an exit-intent offer, and which: pure rules, no storage.

Order (each step names its reason when it suppresses): bot -> kill switch and schedule ->
trigger sanity (too early, excluded pages) -> targeting -> an offer still valid (same code
again) -> frequency caps -> sticky holdout -> sticky weighted variant. The budget is reserved
atomically when the code is written.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from chalicelib.core.errors import Invalid
from chalicelib.core.ids import ID_PATTERN
from chalicelib.domain.coupons import DismissHow  # noqa: F401  (the vocabulary lives in the domain; re-exported)
from chalicelib.domain.money import at_least
from chalicelib.offers.campaigns import DEVICES, MAX_CART_VALUE, Campaign, Variant
from chalicelib.offers.currencies import is_currency
from chalicelib.storage.visitor_state import CampaignVisit

_BOT = re.compile(
    r"bot|crawl|spider|slurp|headless|phantomjs|puppeteer|playwright|selenium|lighthouse|python-requests|curl/|wget/|httpclient",
    re.I,
)
# Never interrupt someone who has just bought, or who is leaving through our own pages.
ALWAYS_EXCLUDED = ("/u/*", "*/checkout/complete*", "*/order-confirmation*", "*/thank-you*")

# When nothing is shown, the reason of the furthest step any campaign reached.
_REASON_RANK = ("no_campaign", "kill_switch", "outside_schedule", "excluded_page", "too_early", "capped", "dismissed")


@dataclass(frozen=True)
class Visit:
    site_key: str
    visitor_id: str | None
    session_id: str | None
    path: str
    cart_value: float
    currency: str | None
    device: str
    utm_source: str | None
    known_customer: bool
    returning: bool
    seconds_on_page: float
    user_agent: str
    customer_id: str | None = None  # the shop's id of a signed-in customer (hashed before any use)
    customer_hash: str | None = None  # HMAC-SHA256(site secret, customer_id) from the shop's server


@dataclass(frozen=True)
class Dismissal:
    """The visitor closed the dialog, as the snippet reports it."""

    campaign_id: str
    visitor_id: str
    how: DismissHow
    customer_id: str | None = None
    customer_hash: str | None = None


def parse_dismissal(body: dict) -> Dismissal:
    """The snippet's `dismiss` event, read by `contracts.Dismissal` (the events route has loaded
    pydantic already; the decision path never calls this)."""
    from chalicelib.core.contracts import validate
    from chalicelib.offers.contracts import Dismissal as Sent

    sent = validate(Sent, body, "bad_field")
    signature = _claimed_hash(sent.customer_hash)
    return Dismissal(sent.campaign_id or "", sent.visitor_id, DismissHow(sent.how), sent.customer_id, signature)


@dataclass(frozen=True)
class Decision:
    show: bool
    reason: str
    campaign: Campaign | None = None
    variant: Variant | None = None
    existing: CampaignVisit | None = None  # a still-valid offer to give back as it is

    @property
    def issue(self) -> bool:
        return self.show and self.existing is None


HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


def _text(value, name: str, limit: int, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid("missing_field", f"{name} is required")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid("bad_field", f"{name} must be a string of at most {limit} characters")
    return value


def parse_visit(body: dict, user_agent: str | None) -> Visit:
    site_key = _text(body.get("site_key"), "site_key", 64, required=True)
    if not ID_PATTERN.match(site_key):
        raise Invalid("bad_field", "site_key is not valid")
    visitor_id = _text(body.get("visitor_id"), "visitor_id", 64)
    if visitor_id is not None and not ID_PATTERN.match(visitor_id):
        raise Invalid("bad_field", "visitor_id must be letters, digits, '-' or '_'")
    page_url = _text(body.get("page_url"), "page_url", 2048, required=True)
    path = urlsplit(page_url).path or "/"
    cart = body.get("cart_value", 0)
    if isinstance(cart, bool) or not isinstance(cart, int | float) or not 0 <= cart <= MAX_CART_VALUE:
        raise Invalid("bad_field", f"cart_value must be a number from 0 to {MAX_CART_VALUE}")
    currency = _text(body.get("currency"), "currency", 3)
    if currency is not None and not is_currency(currency):
        raise Invalid("bad_field", "currency must be an ISO 4217 code such as USD, EUR or THB")
    device = body.get("device", "desktop")
    if device not in DEVICES:
        raise Invalid("bad_field", f"device must be one of {', '.join(DEVICES)}")
    seconds = body.get("seconds_on_page", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 86_400:
        raise Invalid("bad_field", "seconds_on_page must be a number of seconds")
    for flag in ("known_customer", "returning"):
        if not isinstance(body.get(flag, False), bool):
            raise Invalid("bad_field", f"{flag} must be true or false")
    customer_id, signature = _customer(body)
    return Visit(
        site_key=site_key,
        visitor_id=visitor_id,
        session_id=_text(body.get("session_id"), "session_id", 64),
        path=path,
        cart_value=float(cart),
        currency=currency.upper() if currency else None,
        device=device,
        utm_source=_text(body.get("utm_source"), "utm_source", 100),
        known_customer=body.get("known_customer", False),
        returning=body.get("returning", False),
        seconds_on_page=float(seconds),
        user_agent=(user_agent or "")[:512],
        customer_id=customer_id,
        customer_hash=signature,
    )


def _customer(body: dict) -> tuple[str | None, str | None]:
    """(customer_id, customer_hash) as the snippet sends them. The hash is only a claim until
    `identity.verified_customer` checks it; text that is no hex digest cannot be one, so it is
    dropped here (the visitor is then anonymous) rather than compared."""
    customer_id = _text(body.get("customer_id"), "customer_id", 128)
    if customer_id is not None and not customer_id.isprintable():
        raise Invalid("bad_field", "customer_id must be printable text")
    return customer_id, _claimed_hash(_text(body.get("customer_hash"), "customer_hash", 128))


def _claimed_hash(signature: str | None) -> str | None:
    """The customer hash when it is a hex digest; anything else cannot be one."""
    return signature if signature and HEX_DIGEST.fullmatch(signature) else None


def is_bot(visit: Visit) -> bool:
    return not visit.visitor_id or not visit.user_agent or bool(_BOT.search(visit.user_agent))


def _bucket(*parts: str) -> float:
    """A stable number in [0, 1) for these parts: the same visitor always lands in the same place."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_holdout(campaign: Campaign, visit: Visit) -> bool:
    return _bucket(visit.site_key, visit.visitor_id or "", campaign.campaign_id, "holdout") < campaign.holdout


def pick_variant(campaign: Campaign, visit: Visit) -> Variant:
    point = _bucket(visit.site_key, visit.visitor_id or "", campaign.campaign_id, "variant") * sum(
        v.weight for v in campaign.variants
    )
    for variant in campaign.variants:
        point -= variant.weight
        if point < 0:
            return variant
    return campaign.variants[-1]


def _matches(patterns, path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def targets(campaign: Campaign, visit: Visit) -> bool:
    t = campaign.targeting
    if not _matches(t.paths, visit.path) or visit.device not in t.devices:
        return False
    if t.min_cart and (visit.currency != t.currency or not at_least(visit.cart_value, t.min_cart, t.currency)):
        return False
    if t.visitor != "any" and (t.visitor == "returning") != visit.returning:
        return False
    if t.customers != "any" and (t.customers == "known") != visit.known_customer:
        return False
    return not (t.utm_sources and visit.utm_source not in t.utm_sources)


def _suppressed(campaign: Campaign, visit: Visit, state: CampaignVisit, now: datetime) -> str | None:
    if not campaign.enabled:
        return "kill_switch"
    if (campaign.starts_at and now < campaign.starts_at) or (campaign.ends_at and now >= campaign.ends_at):
        return "outside_schedule"
    if not campaign.schedule.open_at(now):
        return "outside_schedule"
    if _matches(ALWAYS_EXCLUDED + campaign.targeting.exclude_paths, visit.path):
        return "excluded_page"
    if visit.seconds_on_page < campaign.min_seconds_on_page:
        return "too_early"
    if not targets(campaign, visit):
        return "no_campaign"
    if dismissed_until(campaign, state) and now < dismissed_until(campaign, state):
        return "dismissed"  # even while its code is valid: the visitor closed it
    if state.offer_valid_at(now):
        return None
    if state.offers >= campaign.max_per_visitor:
        return "capped"
    if state.last_offer_at and now < state.last_offer_at + timedelta(days=campaign.cooldown_days):
        return "capped"
    return None


NEVER = timedelta(days=365)


def dismissed_until(campaign: Campaign, state: CampaignVisit) -> datetime | None:
    """A dismissal waits the campaign's cooldown for that many dismissals (growing: e.g. 1, 7,
    30 days, the last repeating); "don't show again" waits a year."""
    if state.dismissed_at is None:
        return None
    if state.never:
        return state.dismissed_at + NEVER
    schedule = campaign.dismiss_cooldown_days
    return state.dismissed_at + timedelta(days=schedule[min(state.dismissals, len(schedule)) - 1])


def decide(campaigns: list[Campaign], visit: Visit, states: dict[str, CampaignVisit], now: datetime) -> Decision:
    if is_bot(visit):
        return Decision(False, "bot")
    furthest = "no_campaign"
    for campaign in sorted(campaigns, key=lambda c: -c.priority):
        state = states.get(campaign.campaign_id, CampaignVisit())
        reason = _suppressed(campaign, visit, state, now)
        if reason is not None:
            furthest = max(furthest, reason, key=_REASON_RANK.index)
            continue
        if state.offer_valid_at(now):
            variant = next((v for v in campaign.variants if v.variant_id == state.variant_id), campaign.variants[0])
            return Decision(True, "offer", campaign, variant, existing=state)
        if in_holdout(campaign, visit):
            return Decision(False, "holdout", campaign)
        return Decision(True, "offer", campaign, pick_variant(campaign, visit))
    return Decision(False, furthest)
