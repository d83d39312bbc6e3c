"""Ninety days of consent changes for two hundred people on the in-memory store (the store the
contract tests hold to DynamoDB's behaviour): after every day, each list's member count is the
number of people still receiving it, nobody who complained (and did not explicitly subscribe
again) can be sent to, and no change was
recorded twice. Tens of thousands of store operations, in about a second."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from chalicelib.domain import consent
from chalicelib.domain.consent import AuditContext, Source
from chalicelib.storage import store, subscribers
from chalicelib.storage.memory import MemoryConsentStore
from chalicelib.sunset.engagement import Fact, apply

START = datetime(2027, 1, 1, 6, 0, tzinfo=UTC)
LISTS = ("news", "promo", "events")
PEOPLE = [f"p{n:03d}" for n in range(200)]
DAYS = 90


def a_day(rng: random.Random, now: datetime, complained: set[str]) -> None:
    for sid in rng.sample(PEOPLE, 40):
        list_id = rng.choice(LISTS)
        roll = rng.random()
        now += timedelta(seconds=rng.randrange(1, 300))
        if roll < 0.35:
            again = roll < 0.05  # consent given again: the one thing that lifts a complaint's opt-out
            outcome = subscribers.subscribe(
                sid, f"{sid}@example.com", list_id, AuditContext(Source.API), now, now, again
            )
            if outcome == consent.Outcome.RESUBSCRIBED:
                complained.discard(sid)
        elif roll < 0.6:
            subscribers.record_engagement(sid, list_id, now, now + timedelta(days=30))
        elif roll < 0.75:
            subscribers.unsubscribe(sid, list_id, AuditContext(Source.ONE_CLICK), now)
        elif roll < 0.85:
            subscribers.pause(sid, list_id, now + timedelta(days=rng.choice((30, 90))), AuditContext(Source.PAGE), now)
        elif roll < 0.93:
            change = subscribers.unsubscribe(sid, list_id, AuditContext(Source.PAGE), now)
            if change.applied and rng.random() < 0.5:
                subscribers.undo(sid, list_id, change.event_key, AuditContext(Source.PAGE), now, now)
        elif roll < 0.97:
            subscribers.unsubscribe_all(sid, AuditContext(Source.PAGE), now)
        else:
            apply(Fact("complaint", sid), now)
            complained.add(sid)


def check(memory: MemoryConsentStore, complained: set[str], when: datetime) -> None:
    receiving = Counter()
    for sid in PEOPLE:
        profile, held = memory.everything(sid)
        receiving.update(s.list_id for s in held if s.status in consent.RECEIVING)
        if sid in complained:
            assert profile.opted_out_all, sid
            for s in held:
                assert not consent.may_send(s.status, s.paused_until, True, set(), "email", when).allowed
        events = [r.key for r in memory.trail(sid)]
        assert len(events) == len(set(events)), sid
    assert {list_id: memory.members(list_id) for list_id in LISTS} == {list_id: receiving[list_id] for list_id in LISTS}


def test_ninety_days_keep_member_counts_and_complaints_right():
    memory, rng, complained = MemoryConsentStore(), random.Random(7), set()
    with store.use(consent=memory):
        for list_id in LISTS:
            memory.add_list(list_id, list_id)
        for day in range(DAYS):
            when = START + timedelta(days=day)
            a_day(rng, when, complained)
            check(memory, complained, when)
    assert len(complained) > 10 and sum(memory.members(list_id) for list_id in LISTS) > 50
