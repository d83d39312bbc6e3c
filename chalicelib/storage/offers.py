"""The offers table family: sites with their campaigns, visitors' offer state, coupon codes,
campaign counters and rate counters, in one table keyed `pk`/`sk` with one TTL attribute.

Storage commits the domain's coupon plans (`chalicelib.domain.coupons`) and decides nothing:
issuing a code is one transaction (the planned budget reservation, the code, the visitor's state
with its optimistic version, the per-IP rate counter); a redemption or a rollback is one
transaction (the code's new state on the condition that it is as the plan saw it, and the
planned counter changes with their ceilings). Money is integer minor units.
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
from pynamodb.expressions.condition import size
from pynamodb.models import Model
from pynamodb.transactions import TransactGet

from chalicelib.core.errors import Conflict
from chalicelib.domain.coupons import CodeState, CounterChange, OfferKind, Outcome, Plan, Redeemed, Terms, TillRules
from chalicelib.storage.connection import TABLES, TableMeta, connection
from chalicelib.storage.store import CodeChanged, register_defaults
from chalicelib.storage.transactions import ConditionsFailed, Transaction, get_or_none, storage_errors
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
    secrets = ListAttribute(of=UnicodeAttribute, null=True)  # identity verification, newest first
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
    """A code with its terms and the till rules copied at issue. Money in minor units of
    `currency`; `value` is the percent of a percent code, the minor units of an amount code."""

    code = UnicodeAttribute()
    site_key = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    variant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    value = NumberAttribute()
    currency = UnicodeAttribute(null=True)
    max_discount = NumberAttribute(null=True)
    rules = JSONAttribute(null=True)  # the campaign's till rules when the code was issued
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
    discount = NumberAttribute(null=True)  # what the redemption gave
    took_customer = BooleanAttribute(null=True)  # the redemption counted against a per-customer limit
    took_budget = BooleanAttribute(null=True)  # ... and against the campaign's redeemed-value budget
    rollbacks = ListAttribute(null=True)  # audit: [{order_ref, redeemed_at, rolled_back_at}]

    def state(self) -> CodeState:
        rules = dict(self.rules or {})
        for name in ("channels", "store_ids"):
            if name in rules:
                rules[name] = tuple(rules[name])
        kind = OfferKind(self.kind)
        terms = Terms(
            kind,
            percent=_number(self.value) if kind == OfferKind.PERCENT else 0,
            amount=int(self.value) if kind == OfferKind.AMOUNT else 0,
            currency=self.currency,
            max_discount=None if self.max_discount is None else int(self.max_discount),
        )
        redeemed = None
        if self.redeemed_at is not None:
            redeemed = Redeemed(
                self.order_ref,
                self.channel,
                self.redeemed_at,
                self.store_id,
                self.customer,
                None if self.order_value is None else int(self.order_value),
                int(self.discount or 0),
                bool(self.took_customer),
                bool(self.took_budget),
            )
        return CodeState(
            self.code,
            self.site_key,
            self.campaign_id,
            self.variant_id,
            terms,
            TillRules(**rules),
            self.expires_at,
            redeemed,
            tuple(self.rollbacks or ()),
        )


def _number(value):
    """A stored number as it was written: an int when whole (10 for 10%), else a float (12.5)."""
    return int(value) if value == int(value) else float(value)


def new_coupon(code: CodeState, issued_at: datetime) -> Coupon:
    terms, rules = code.terms, code.rules
    stored_rules = {
        "channels": list(rules.channels),
        "store_ids": list(rules.store_ids),
        "min_order": rules.min_order,
        "min_order_currency": rules.min_order_currency,
        "first_time_only": rules.first_time_only,
        "per_customer": rules.per_customer,
        "rollback_hours": rules.rollback_hours,
        "value_budget": rules.value_budget,
    }
    return Coupon(
        code_key(code.code),
        "CODE",
        code=code.code,
        site_key=code.site_key,
        campaign_id=code.campaign_id,
        variant_id=code.variant_id,
        kind=str(terms.kind),
        value=terms.percent if terms.kind == OfferKind.PERCENT else terms.amount,
        currency=terms.currency,
        max_discount=terms.max_discount,
        rules=stored_rules,
        issued_at=issued_at,
        expires_at=code.expires_at,
        ttl=code.expires_at + CODE_RETENTION,
    )


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


class SiteExists(Conflict):
    def __init__(self, site_key: str = ""):
        super().__init__("site_exists", "a site with this key exists")
        self.site_key = site_key


def create_site(site_key: str, name: str, allowed_origins: list[str], secrets: list[str]) -> Site:
    site = Site(
        site_key_of(site_key),
        "CONFIG",
        name=name,
        allowed_origins=allowed_origins,
        enabled=True,
        campaigns={},
        secrets=secrets,
    )
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


@storage_errors
def site_and_visitor(site_key: str, visitor_id: str, with_site: bool) -> tuple[Site | None, VisitorState | None]:
    """One round trip: the visitor's state, and the site too when it is not cached."""
    if not with_site:
        return None, get_or_none(VisitorState, visitor_key(site_key, visitor_id), "STATE")
    with TransactGet(connection=connection()) as transaction:
        site_future = transaction.get(Site, site_key_of(site_key), "CONFIG")
        visitor_future = transaction.get(VisitorState, visitor_key(site_key, visitor_id), "STATE")
    return _result(site_future), _result(visitor_future)


@storage_errors
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


class IssueRefused(Conflict):
    """Why an issue did not commit: budget_spent, visitor_changed, code_taken, rate_limited
    (the service answers each; `code` is the reason too)."""

    def __init__(self, reason: str):
        super().__init__(reason, f"the code was not issued: {reason}")
        self.reason = reason


def _customer_key(site_key: str, campaign_id: str, customer: str | None) -> tuple[str, str]:
    return f"CUSTOMER#{site_key}#{campaign_id}#{customer}", "REDEEMED"


def _counter(name: str, code: CodeState, day: str | None = None, customer: str | None = None):
    """The item behind a counter name of the domain's plans."""
    campaign = campaign_key(code.site_key, code.campaign_id)
    if name == "total":
        return Counter(campaign, "TOTAL")
    if name == "day":
        return Counter(campaign, f"DAY#{day}")
    if name == "arm":
        return Counter(campaign, f"ARM#{code.variant_id}")
    if name == "customer":
        return RateCounter(*_customer_key(code.site_key, code.campaign_id, customer))
    raise ValueError(name)


def _add_counter(transaction: Transaction, change: CounterChange, item, extra_actions=()) -> None:
    """The change as one update: ADD each amount, on the condition that no ceiling is passed."""
    model = type(item)
    actions = [getattr(model, attribute).add(amount) for attribute, amount in change.adds.items()]
    condition = None
    for attribute, ceiling in change.ceilings.items():
        field = getattr(model, attribute)
        holds = field.does_not_exist() | (field <= ceiling - change.adds.get(attribute, 0))
        condition = holds if condition is None else condition & holds
    transaction.update(change.name, item, actions=[*actions, *extra_actions], condition=condition)


def issue(
    coupon: Coupon,
    visitor: VisitorState,
    counters: tuple[CounterChange, ...],
    day: str,
    rate_key: str,
    rate_limit: int,
    now: datetime,
) -> None:
    """Write the code and the visitor's state with the planned budget reservation (total and per
    day, counts and value) and the per-IP rate counter, all or nothing."""
    code = coupon.state()
    transaction = Transaction().put("code", coupon, condition=Coupon.pk.does_not_exist()).put("visitor", visitor)
    for change in counters:
        keep = [Counter.ttl.set(now + timedelta(days=7))] if change.name == "day" else []
        _add_counter(transaction, change, _counter(change.name, code, day=day), keep)
    transaction.update(
        "rate",
        RateCounter(rate_key, "RATE"),
        actions=[RateCounter.n.add(1), RateCounter.ttl.set(now + timedelta(minutes=5))],
        condition=RateCounter.n.does_not_exist() | (RateCounter.n < rate_limit),
    )
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        reasons = {"code": "code_taken", "visitor": "visitor_changed", "rate": "rate_limited"}
        reasons.update({change.name: str(change.refusal) for change in counters if change.refusal})
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


def get_code(code: str) -> CodeState | None:
    coupon = get_coupon(code)
    return coupon.state() if coupon else None


def commit_code_change(plan: Plan) -> Outcome | CodeChanged | None:
    """A redemption or rollback plan as one transaction: the code's new state, conditional on
    the redemption it read, with the planned counter changes. None when it committed; else the
    rule of the counter ceiling that failed, or how the code now is."""
    before, after = plan.code, plan.new
    key = Coupon(code_key(before.code), "CODE")
    if before.redeemed is None:  # ... and rolled back as often as read (the answer counts rollbacks)
        rolled_back = size(Coupon.rollbacks) == len(before.rollbacks) if before.rollbacks else None
        expected = Coupon.pk.exists() & Coupon.redeemed_at.does_not_exist()
        expected &= rolled_back if rolled_back is not None else Coupon.rollbacks.does_not_exist()
    else:
        expected = (Coupon.redeemed_at == before.redeemed.at) & (Coupon.order_ref == before.redeemed.order_ref)
    actions = _code_actions(before, after)
    if len(after.rollbacks) > len(
        before.rollbacks
    ):  # appended, whatever the list holds (the plan may not have read it)
        added = list(after.rollbacks[len(before.rollbacks) :])
        actions.append(Coupon.rollbacks.set((Coupon.rollbacks | []).append(added)))
    transaction = Transaction().update("coupon", key, actions, condition=expected, keep_old=True)
    redemption = after.redeemed or before.redeemed
    for change in plan.counters:
        _add_counter(transaction, change, _counter(change.name, before, customer=redemption.customer))
    try:
        transaction.commit()
    except ConditionsFailed as failed:
        if "coupon" in failed:
            raw = failed.failed["coupon"]
            return CodeChanged(Coupon.from_raw_data(raw).state() if raw else None)
        return next(plan.refusal_for(name) for name in failed.failed)
    return None


def _redemption_fields(redeemed: Redeemed | None) -> dict:
    """attribute name -> value of a redemption's attributes on the code item."""
    if redeemed is None:
        return {}
    fields = {
        "redeemed_at": redeemed.at,
        "order_ref": redeemed.order_ref,
        "channel": str(redeemed.channel),
        "store_id": redeemed.store_id,
        "customer": redeemed.customer,
        "order_value": redeemed.order_value,
        "discount": redeemed.discount,
        "took_customer": redeemed.took_customer or None,
        "took_budget": redeemed.took_budget or None,
    }
    return {name: value for name, value in fields.items() if value is not None}


def _code_actions(before: CodeState, after: CodeState) -> list:
    """SET what the new redemption holds, REMOVE what only the old one held (nothing else)."""
    old, new = _redemption_fields(before.redeemed), _redemption_fields(after.redeemed)
    attribute = Coupon.get_attributes()
    return [attribute[name].set(value) for name, value in new.items()] + [
        attribute[name].remove() for name in old if name not in new
    ]


@storage_errors
def campaign_counters(site_key: str, campaign_id: str) -> list[Counter]:
    return list(Counter.query(campaign_key(site_key, campaign_id), Counter.sk.startswith("ARM#")))


def count_conversion(visitor: VisitorState, site_key: str, campaign_id: str, arm: str) -> bool:
    transaction = Transaction().put("visitor", visitor)
    transaction.update("arm", Counter(campaign_key(site_key, campaign_id), f"ARM#{arm}"), [Counter.conversions.add(1)])
    return transaction.commit_unless()


def campaign_counts(site_key: str, campaign_id: str) -> dict[str, dict[str, int]]:
    """Every counter item of a campaign (`TOTAL`, `DAY#<day>`, `ARM#<variant>`): attribute -> value."""
    numbers = [name for name, attribute in Counter.get_attributes().items() if isinstance(attribute, NumberAttribute)]
    return {
        item.sk: {name: int(getattr(item, name)) for name in numbers if getattr(item, name) is not None}
        for item in Counter.query(campaign_key(site_key, campaign_id))
    }


class DynamoCouponStore:
    """The coupon store on DynamoDB (`store.CouponStore`): the functions above. The default."""

    def code(self, code: str) -> CodeState | None:
        return get_code(code)

    @storage_errors
    def visitor(self, site_key: str, visitor_id: str) -> VisitorState | None:
        return site_and_visitor(site_key, visitor_id, with_site=False)[1]

    def issue(
        self,
        code: CodeState,
        visitor: VisitorState,
        counters: tuple[CounterChange, ...],
        day: str,
        rate_key: str,
        rate_limit: int,
        now: datetime,
    ) -> None:
        issue(new_coupon(code, now), visitor, counters, day, rate_key, rate_limit, now)

    def commit_code_change(self, plan: Plan) -> Outcome | CodeChanged | None:
        return commit_code_change(plan)

    @storage_errors
    def campaign_counts(self, site_key: str, campaign_id: str) -> dict[str, dict[str, int]]:
        return campaign_counts(site_key, campaign_id)

    def customer_redemptions(self, site_key: str, campaign_id: str, customer: str) -> int:
        found = get_or_none(RateCounter, *_customer_key(site_key, campaign_id, customer))
        return int(found.n or 0) if found else 0


DYNAMODB = DynamoCouponStore()
register_defaults(coupons=DYNAMODB)
