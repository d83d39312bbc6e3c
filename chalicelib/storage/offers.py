"""The offers table family: sites with their campaigns, visitors' offer state, coupon codes,
campaign counters and rate counters, in one table keyed `pk`/`sk` with one TTL attribute.

Issuing a code is one transaction: the budget reservation (total and per day), the code, the
visitor's state (optimistic version) and the per-IP rate counter commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from chalicelib.storage.connection import OFFERS_TABLE, TableMeta, connection
from chalicelib.storage.transactions import commit_unless, failed_conditions, written

CODE_RETENTION = timedelta(days=90)  # an expired code still answers "expired", not "unknown"
VISITOR_RETENTION = timedelta(days=400)


class _OffersPartition(Model):
    class Meta(TableMeta):
        table_name = OFFERS_TABLE

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    ttl = TTLAttribute(null=True)


class Site(_OffersPartition):
    name = UnicodeAttribute()
    allowed_origins = ListAttribute(of=UnicodeAttribute)
    enabled = BooleanAttribute()
    campaigns = JSONAttribute(default=dict)  # campaign_id -> the campaign as configured
    version = VersionAttribute()

    @property
    def site_key(self) -> str:
        return self.pk.removeprefix("SITE#")


class Counter(_OffersPartition):
    issued = NumberAttribute(null=True)
    visitors = NumberAttribute(null=True)
    impressions = NumberAttribute(null=True)
    claims = NumberAttribute(null=True)
    redemptions = NumberAttribute(null=True)
    conversions = NumberAttribute(null=True)


class VisitorState(_OffersPartition):
    campaigns = JSONAttribute(default=dict)  # campaign_id -> {offers, last, code, exp, variant, arm, converted}
    version = VersionAttribute()


class Coupon(_OffersPartition):
    code = UnicodeAttribute()
    site_key = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    variant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    value = NumberAttribute()
    currency = UnicodeAttribute(null=True)
    issued_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    redeemed_at = UTCDateTimeAttribute(null=True)
    order_ref = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    impressed_at = UTCDateTimeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute(null=True)


class RateCounter(_OffersPartition):
    n = NumberAttribute(default=0)


def site_key_of(site_key: str) -> str:
    return f"SITE#{site_key}"


def campaign_key(site_key: str, campaign_id: str) -> str:
    return f"CAMPAIGN#{site_key}#{campaign_id}"


def visitor_key(site_key: str, visitor_id: str) -> str:
    return f"VISITOR#{site_key}#{visitor_id}"


def code_key(code: str) -> str:
    return f"CODE#{code}"


class SiteExists(Exception):
    pass


def create_site(site_key: str, name: str, allowed_origins: list[str]) -> Site:
    site = Site(site_key_of(site_key), "CONFIG", name=name, allowed_origins=allowed_origins, enabled=True, campaigns={})
    if not written(lambda: site.save(condition=Site.pk.does_not_exist())):
        raise SiteExists(site_key)
    return site


def get_site(site_key: str) -> Site | None:
    try:
        return Site.get(site_key_of(site_key), "CONFIG")
    except DoesNotExist:
        return None


def save_site(site: Site) -> None:
    """Conditional on the version read: two operators editing at once cannot lose an edit."""
    site.save()


def site_and_visitor(site_key: str, visitor_id: str, with_site: bool) -> tuple[Site | None, VisitorState | None]:
    """One round trip: the visitor's state, and the site too when it is not cached."""
    if not with_site:
        try:
            return None, VisitorState.get(visitor_key(site_key, visitor_id), "STATE")
        except DoesNotExist:
            return None, None
    with TransactGet(connection=connection()) as transaction:
        site_future = transaction.get(Site, site_key_of(site_key), "CONFIG")
        visitor_future = transaction.get(VisitorState, visitor_key(site_key, visitor_id), "STATE")
    return _result(site_future), _result(visitor_future)


def _result(future):
    try:
        return future.get()
    except DoesNotExist:
        return None


@dataclass(frozen=True)
class Budget:
    total: int
    per_day: int | None


class IssueRefused(Exception):
    """Why a transaction did not commit: budget_spent, visitor_changed, code_taken, rate_limited, conflict."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def issue(
    coupon: Coupon,
    visitor: VisitorState,
    budget: Budget,
    first_offer_to_visitor: bool,
    rate_key: str,
    rate_limit: int,
    now: datetime,
) -> None:
    """Reserve the budget and write the code and the visitor's state, all or nothing."""
    if budget.total <= 0 or (budget.per_day is not None and budget.per_day <= 0):
        raise IssueRefused("budget_spent")
    campaign = campaign_key(coupon.site_key, coupon.campaign_id)
    transaction = TransactWrite(connection=connection())
    transaction.save(coupon, condition=Coupon.pk.does_not_exist())
    transaction.save(visitor)
    transaction.update(
        Counter(campaign, "TOTAL"),
        actions=[Counter.issued.add(1)],
        condition=Counter.issued.does_not_exist() | (Counter.issued < budget.total),
    )
    if budget.per_day is not None:
        transaction.update(
            Counter(campaign, f"DAY#{now:%Y-%m-%d}"),
            actions=[Counter.issued.add(1), Counter.ttl.set(now + timedelta(days=7))],
            condition=Counter.issued.does_not_exist() | (Counter.issued < budget.per_day),
        )
    arm_actions = [Counter.issued.add(1)] + ([Counter.visitors.add(1)] if first_offer_to_visitor else [])
    transaction.update(Counter(campaign, f"ARM#{coupon.variant_id}"), actions=arm_actions)
    transaction.update(
        RateCounter(rate_key, "RATE"),
        actions=[RateCounter.n.add(1), RateCounter.ttl.set(now + timedelta(minutes=5))],
        condition=RateCounter.n.does_not_exist() | (RateCounter.n < rate_limit),
    )
    try:
        transaction._commit()
    except TransactWriteError as error:
        # Positions: puts (code, visitor), then updates (total, [day], arm, rate).
        names = ["code_taken", "visitor_changed", "budget_spent"]
        names += ["budget_spent"] if budget.per_day is not None else []
        names += ["arm", "rate_limited"]
        failed = failed_conditions(error)
        raise IssueRefused(names[failed[0]]) from error


def record_holdout(visitor: VisitorState, site_key: str, campaign_id: str) -> bool:
    """Count a holdout visitor once: the visitor's state and the counter change together."""
    transaction = TransactWrite(connection=connection())
    transaction.save(visitor)
    transaction.update(Counter(campaign_key(site_key, campaign_id), "ARM#holdout"), actions=[Counter.visitors.add(1)])
    return commit_unless(transaction)


def get_coupon(code: str) -> Coupon | None:
    try:
        return Coupon.get(code_key(code), "CODE")
    except DoesNotExist:
        return None


def mark_coupon(site_key: str, code: str, campaign_id: str, variant_id: str, field: str, now: datetime) -> bool:
    """Set impressed_at / claimed_at once and count it on the variant, in one round trip.
    The conditions make a forged beacon (wrong site, campaign or variant) count nothing."""
    attribute = {"impressed_at": Coupon.impressed_at, "claimed_at": Coupon.claimed_at}[field]
    counter = {"impressed_at": Counter.impressions, "claimed_at": Counter.claims}[field]
    transaction = TransactWrite(connection=connection())
    transaction.update(
        Coupon(code_key(code), "CODE"),
        actions=[attribute.set(now)],
        condition=Coupon.pk.exists()
        & (Coupon.site_key == site_key)
        & (Coupon.campaign_id == campaign_id)
        & (Coupon.variant_id == variant_id)
        & attribute.does_not_exist(),
    )
    transaction.update(Counter(campaign_key(site_key, campaign_id), f"ARM#{variant_id}"), actions=[counter.add(1)])
    return commit_unless(transaction)


def redeem(code: str, order_ref: str, channel: str, now: datetime) -> tuple[str, Coupon | None]:
    """Exactly once. Returns (outcome, coupon): redeemed, already_redeemed_same_order,
    already_redeemed, expired or unknown."""
    coupon = get_coupon(code)
    if coupon is None:
        return "unknown", None
    transaction = TransactWrite(connection=connection())
    transaction.update(
        Coupon(code_key(code), "CODE"),
        actions=[Coupon.redeemed_at.set(now), Coupon.order_ref.set(order_ref), Coupon.channel.set(channel)],
        condition=Coupon.redeemed_at.does_not_exist() & (Coupon.expires_at > now),
        return_values="ALL_OLD",
    )
    transaction.update(
        Counter(campaign_key(coupon.site_key, coupon.campaign_id), f"ARM#{coupon.variant_id}"),
        actions=[Counter.redemptions.add(1)],
    )
    try:
        transaction._commit()
    except TransactWriteError as error:
        failed_conditions(error)
        current = get_coupon(code)
        if current.redeemed_at is not None:
            return ("already_redeemed_same_order" if current.order_ref == order_ref else "already_redeemed"), current
        return "expired", current
    return "redeemed", get_coupon(code)


def campaign_counters(site_key: str, campaign_id: str) -> list[Counter]:
    return list(Counter.query(campaign_key(site_key, campaign_id), Counter.sk.startswith("ARM#")))


def count_conversion(visitor: VisitorState, site_key: str, campaign_id: str, arm: str) -> bool:
    transaction = TransactWrite(connection=connection())
    transaction.save(visitor)
    transaction.update(Counter(campaign_key(site_key, campaign_id), f"ARM#{arm}"), actions=[Counter.conversions.add(1)])
    return commit_unless(transaction)
