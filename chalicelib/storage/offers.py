"""The offers table family: sites with their campaigns, visitors' offer state, coupon codes,
campaign counters and rate counters, in one table keyed `pk`/`sk` with one TTL attribute.

Issuing a code is one transaction: the budget reservation (total and per day), the code, the
visitor's state (optimistic version) and the per-IP rate counter commit together or not at all.
"""

from __future__ import annotations

import json
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
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model
from pynamodb.transactions import TransactGet

from chalicelib.storage.connection import TABLES, TableMeta, connection
from chalicelib.storage.transactions import ConditionsFailed, Transaction, get_or_none
from chalicelib.storage.visitor_state import CampaignVisit

CODE_RETENTION = timedelta(days=90)  # an expired code still answers "expired", not "unknown"
VISITOR_RETENTION = timedelta(days=400)


class _OffersPartition(Model):
    class Meta(TableMeta):
        table_name = TABLES.offers

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
    value_issued = NumberAttribute(null=True)
    dismissals = NumberAttribute(null=True)
    rollbacks = NumberAttribute(null=True)
    value_redeemed = NumberAttribute(null=True)
    visitors = NumberAttribute(null=True)
    impressions = NumberAttribute(null=True)
    claims = NumberAttribute(null=True)
    redemptions = NumberAttribute(null=True)
    conversions = NumberAttribute(null=True)


class CampaignVisitsAttribute(JSONAttribute):
    """campaign_id -> CampaignVisit, stored as compact JSON."""

    def serialize(self, value):
        return json.dumps({campaign_id: state.to_raw() for campaign_id, state in (value or {}).items()})

    def deserialize(self, value):
        return {campaign_id: CampaignVisit.from_raw(raw) for campaign_id, raw in json.loads(value).items()}


class VisitorState(_OffersPartition):
    campaigns = CampaignVisitsAttribute(default=dict)
    version = VersionAttribute()

    def state_of(self, campaign_id: str) -> CampaignVisit:
        return (self.campaigns or {}).get(campaign_id) or CampaignVisit()

    def with_state(self, campaign_id: str, state: CampaignVisit) -> VisitorState:
        self.campaigns = {**(self.campaigns or {}), campaign_id: state}
        return self


def new_visitor(site_key: str, visitor_id: str) -> VisitorState:
    return VisitorState(visitor_key(site_key, visitor_id), "STATE", campaigns={})


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
    store_id = UnicodeAttribute(null=True)
    customer = UnicodeAttribute(null=True)  # hashed customer id of the redemption
    order_value = NumberAttribute(null=True)
    rollbacks = JSONAttribute(null=True)  # audit: [{order_ref, redeemed_at, rolled_back_at}]


class RateCounter(_OffersPartition):
    n = NumberAttribute(default=0)


class SiteVersion(_OffersPartition):
    """The site's configuration version, written with every change of it: the decision path
    reads this small item with the visitor's state, so a change (the kill switch) reaches
    every container on its next decision."""

    n = NumberAttribute()


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
    if not save_site(site, condition=Site.pk.does_not_exist()):
        raise SiteExists(site_key)
    return site


def get_site(site_key: str) -> Site | None:
    return get_or_none(Site, site_key_of(site_key), "CONFIG")


def save_site(site: Site, condition=None) -> bool:
    """Conditional on the version read (two operators editing at once cannot lose an edit), with
    the version item in the same transaction. False when the site changed since it was read."""
    version = SiteVersion(site.pk, "VERSION", n=(site.version or 0) + 1)
    return Transaction().put("site", site, condition=condition).put("version", version).commit_unless("site")


def site_and_visitor(site_key: str, visitor_id: str, with_site: bool) -> tuple[Site | None, VisitorState | None]:
    """One round trip: the visitor's state, and the site too when it is not cached."""
    if not with_site:
        return None, get_or_none(VisitorState, visitor_key(site_key, visitor_id), "STATE")
    with TransactGet(connection=connection()) as transaction:
        site_future = transaction.get(Site, site_key_of(site_key), "CONFIG")
        visitor_future = transaction.get(VisitorState, visitor_key(site_key, visitor_id), "STATE")
    return _result(site_future), _result(visitor_future)


def visitor_and_site_version(site_key: str, visitor_id: str) -> tuple[VisitorState | None, int | None]:
    """One round trip: the visitor's state and the site's configuration version."""
    with TransactGet(connection=connection()) as transaction:
        visitor_future = transaction.get(VisitorState, visitor_key(site_key, visitor_id), "STATE")
        version_future = transaction.get(SiteVersion, site_key_of(site_key), "VERSION")
    version = _result(version_future)
    return _result(visitor_future), (int(version.n) if version else None)


def _result(future):
    try:
        return future.get()
    except DoesNotExist:
        return None


@dataclass(frozen=True)
class Budget:
    """What one code may take: counts, and (when the campaign caps value) its discount value.
    `day` is the campaign's calendar day (in its time zone) that daily caps count against."""

    total: int
    per_day: int | None
    day: str = ""
    value: float = 0.0
    total_value: float | None = None
    value_per_day: float | None = None


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
    """Reserve the budget and write the code and the visitor's state, all or nothing. Value caps
    are conditions too: `value_issued` never passes the cap, however many issue at once."""
    if budget.total <= 0 or (budget.per_day is not None and budget.per_day <= 0):
        raise IssueRefused("budget_spent")
    for cap in (budget.total_value, budget.value_per_day):
        if cap is not None and budget.value > cap:
            raise IssueRefused("budget_spent")
    campaign = campaign_key(coupon.site_key, coupon.campaign_id)
    transaction = Transaction().put("code", coupon, condition=Coupon.pk.does_not_exist()).put("visitor", visitor)
    total_actions, total_condition = (
        [Counter.issued.add(1)],
        Counter.issued.does_not_exist() | (Counter.issued < budget.total),
    )
    if budget.total_value is not None:
        total_actions.append(Counter.value_issued.add(budget.value))
        total_condition &= Counter.value_issued.does_not_exist() | (
            Counter.value_issued <= budget.total_value - budget.value
        )
    transaction.update("total", Counter(campaign, "TOTAL"), actions=total_actions, condition=total_condition)
    if budget.per_day is not None or budget.value_per_day is not None:
        day_actions = [Counter.issued.add(1), Counter.ttl.set(now + timedelta(days=7))]
        day_condition = None
        if budget.per_day is not None:
            day_condition = Counter.issued.does_not_exist() | (Counter.issued < budget.per_day)
        if budget.value_per_day is not None:
            day_actions.append(Counter.value_issued.add(budget.value))
            value_ok = Counter.value_issued.does_not_exist() | (
                Counter.value_issued <= budget.value_per_day - budget.value
            )
            day_condition = value_ok if day_condition is None else day_condition & value_ok
        day = budget.day or f"{now:%Y-%m-%d}"
        transaction.update("day", Counter(campaign, f"DAY#{day}"), actions=day_actions, condition=day_condition)
    arm_actions = [Counter.issued.add(1)] + ([Counter.visitors.add(1)] if first_offer_to_visitor else [])
    if budget.value:
        arm_actions.append(Counter.value_issued.add(budget.value))
    transaction.update("arm", Counter(campaign, f"ARM#{coupon.variant_id}"), arm_actions)
    transaction.update(
        "rate",
        RateCounter(rate_key, "RATE"),
        actions=[RateCounter.n.add(1), RateCounter.ttl.set(now + timedelta(minutes=5))],
        condition=RateCounter.n.does_not_exist() | (RateCounter.n < rate_limit),
    )
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        reasons = {"code": "code_taken", "visitor": "visitor_changed", "total": "budget_spent"}
        reasons.update(day="budget_spent", rate="rate_limited")
        raise IssueRefused(next(reasons[name] for name in reasons if name in failed)) from failed


@dataclass(frozen=True)
class EmailLimits:
    per_code: int
    per_ip_per_hour: int
    per_site_per_hour: int


def reserve_email(site_key: str, code: str | None, ip_hash: str | None, limits: EmailLimits, now: datetime) -> bool:
    """Count one "email me the code" against the code, the client and the site, all or nothing;
    False when any limit is reached (nothing is counted then)."""
    hour = f"{now:%Y%m%d%H}"
    transaction = Transaction()
    counters = [
        ("ip", f"EMAIL#IP#{site_key}#{ip_hash or 'unknown'}#{hour}", limits.per_ip_per_hour, timedelta(hours=2)),
        ("site", f"EMAIL#SITE#{site_key}#{hour}", limits.per_site_per_hour, timedelta(hours=2)),
    ]
    if code:
        counters.append(("code", f"EMAIL#CODE#{code}", limits.per_code, CODE_RETENTION))
    for name, key, limit, keep in counters:
        transaction.update(
            name,
            RateCounter(key, "RATE"),
            actions=[RateCounter.n.add(1), RateCounter.ttl.set(now + keep)],
            condition=RateCounter.n.does_not_exist() | (RateCounter.n < limit),
        )
    return transaction.commit_unless()


def record_dismissal(visitor: VisitorState, site_key: str, campaign_id: str, arm: str | None) -> bool:
    """The visitor's dismissal state (optimistic version) and the arm's dismissal count together."""
    transaction = Transaction().put("visitor", visitor)
    if arm:
        transaction.update(
            "arm", Counter(campaign_key(site_key, campaign_id), f"ARM#{arm}"), [Counter.dismissals.add(1)]
        )
    return transaction.commit_unless("visitor")


def record_holdout(visitor: VisitorState, site_key: str, campaign_id: str) -> bool:
    """Count a holdout visitor once: the visitor's state and the counter change together."""
    transaction = Transaction().put("visitor", visitor)
    transaction.update("arm", Counter(campaign_key(site_key, campaign_id), "ARM#holdout"), [Counter.visitors.add(1)])
    return transaction.commit_unless()


def get_coupon(code: str) -> Coupon | None:
    return get_or_none(Coupon, code_key(code), "CODE")


def mark_coupon(site_key: str, code: str, campaign_id: str, variant_id: str, field: str, now: datetime) -> bool:
    """Set impressed_at / claimed_at once and count it on the variant, in one round trip.
    The conditions make a forged beacon (wrong site, campaign or variant) count nothing."""
    attribute = {"impressed_at": Coupon.impressed_at, "claimed_at": Coupon.claimed_at}[field]
    counter = {"impressed_at": Counter.impressions, "claimed_at": Counter.claims}[field]
    transaction = Transaction().update(
        "coupon",
        Coupon(code_key(code), "CODE"),
        actions=[attribute.set(now)],
        condition=Coupon.pk.exists()
        & (Coupon.site_key == site_key)
        & (Coupon.campaign_id == campaign_id)
        & (Coupon.variant_id == variant_id)
        & attribute.does_not_exist(),
    )
    transaction.update("arm", Counter(campaign_key(site_key, campaign_id), f"ARM#{variant_id}"), [counter.add(1)])
    return transaction.commit_unless()


@dataclass(frozen=True)
class Redemption:
    order_ref: str
    channel: str
    order_value: float | None = None
    store_id: str | None = None
    customer: str | None = None  # hashed
    per_customer: int | None = None  # the campaign's limit of redemptions per customer


def _customer_counter(coupon: Coupon, customer: str) -> RateCounter:
    return RateCounter(f"CUSTOMER#{coupon.site_key}#{coupon.campaign_id}#{customer}", "REDEEMED")


def redeem(coupon: Coupon, redemption: Redemption, now: datetime) -> tuple[str, Coupon]:
    """Exactly once, for a coupon the caller has read. Returns (outcome, the coupon as it now is):
    redeemed, already_redeemed_same_order, already_redeemed, expired or customer_limit."""
    actions = [
        Coupon.redeemed_at.set(now),
        Coupon.order_ref.set(redemption.order_ref),
        Coupon.channel.set(redemption.channel),
    ]
    for attribute, value in (
        (Coupon.order_value, redemption.order_value),
        (Coupon.store_id, redemption.store_id),
        (Coupon.customer, redemption.customer),
    ):
        if value is not None:
            actions.append(attribute.set(value))
    transaction = Transaction().update(
        "coupon",
        Coupon(code_key(coupon.code), "CODE"),
        actions=actions,
        condition=Coupon.redeemed_at.does_not_exist() & (Coupon.expires_at > now),
        keep_old=True,
    )
    transaction.update(
        "arm",
        Counter(campaign_key(coupon.site_key, coupon.campaign_id), f"ARM#{coupon.variant_id}"),
        actions=[Counter.redemptions.add(1), Counter.value_redeemed.add(_value(coupon, redemption))],
    )
    if redemption.customer and redemption.per_customer:
        transaction.update(
            "customer",
            _customer_counter(coupon, redemption.customer),
            actions=[RateCounter.n.add(1)],
            condition=RateCounter.n.does_not_exist() | (RateCounter.n < redemption.per_customer),
        )
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        if "coupon" in failed:
            redeemed_by = failed.old("coupon", "order_ref")
            if failed.old("coupon", "redeemed_at") is not None:
                outcome = "already_redeemed_same_order" if redeemed_by == redemption.order_ref else "already_redeemed"
                return outcome, get_coupon(coupon.code)
            return "expired", coupon
        return "customer_limit", coupon
    coupon.redeemed_at, coupon.order_ref, coupon.channel = now, redemption.order_ref, redemption.channel
    coupon.order_value, coupon.store_id, coupon.customer = (
        redemption.order_value,
        redemption.store_id,
        redemption.customer,
    )
    return "redeemed", coupon


def _value(coupon: Coupon, redemption: Redemption) -> float:
    """The discount the redemption gave: exact for an amount, computed for a percent with an order value."""
    if coupon.kind == "amount":
        return float(coupon.value)
    if coupon.kind == "percent" and redemption.order_value is not None:
        return round(redemption.order_value * float(coupon.value) / 100, 2)
    return 0.0


def roll_back(coupon: Coupon, per_customer: int | None, now: datetime) -> bool:
    """Undo a redemption (the order was cancelled or refunded): the code is redeemable again and
    the counts return. Exactly once: conditional on the redemption the caller read."""
    redemption = Redemption(coupon.order_ref, coupon.channel, coupon.order_value, coupon.store_id, coupon.customer)
    audit = [
        *(coupon.rollbacks or []),
        {
            "order_ref": coupon.order_ref,
            "redeemed_at": coupon.redeemed_at.isoformat(),
            "rolled_back_at": now.isoformat(),
        },
    ]
    transaction = Transaction().update(
        "coupon",
        Coupon(code_key(coupon.code), "CODE"),
        actions=[
            Coupon.redeemed_at.remove(),
            Coupon.order_ref.remove(),
            Coupon.channel.remove(),
            Coupon.order_value.remove(),
            Coupon.store_id.remove(),
            Coupon.customer.remove(),
            Coupon.rollbacks.set(audit),
        ],
        condition=(Coupon.redeemed_at == coupon.redeemed_at) & (Coupon.order_ref == coupon.order_ref),
    )
    transaction.update(
        "arm",
        Counter(campaign_key(coupon.site_key, coupon.campaign_id), f"ARM#{coupon.variant_id}"),
        actions=[
            Counter.redemptions.add(-1),
            Counter.rollbacks.add(1),
            Counter.value_redeemed.add(-_value(coupon, redemption)),
        ],
    )
    if coupon.customer and per_customer:
        transaction.update("customer", _customer_counter(coupon, coupon.customer), [RateCounter.n.add(-1)])
    return transaction.commit_unless("coupon")


def campaign_counters(site_key: str, campaign_id: str) -> list[Counter]:
    return list(Counter.query(campaign_key(site_key, campaign_id), Counter.sk.startswith("ARM#")))


def count_conversion(visitor: VisitorState, site_key: str, campaign_id: str, arm: str) -> bool:
    transaction = Transaction().put("visitor", visitor)
    transaction.update("arm", Counter(campaign_key(site_key, campaign_id), f"ARM#{arm}"), [Counter.conversions.add(1)])
    return transaction.commit_unless()
