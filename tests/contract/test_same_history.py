"""The in-memory consent store and moto's DynamoDB, given the same long random history of
consent changes through every door (subscribe, import, resubscribe, one-click, pause, stop
everything, complaint, undo, frequency, bounce, engagement, erasure), answer every change the
same way, hold the same after each, and end in the same state: statuses, clocks, profiles, member counts, leaving counters
and trails."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import consent
from chalicelib.domain.consent import AuditContext, Source
from chalicelib.storage import store, subscribers
from chalicelib.storage.memory import MemoryConsentStore
from chalicelib.sunset.engagement import Fact, apply

START = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
LISTS = ("news", "promo", "events")
PEOPLE = ("s1", "s2", "s3", "s4")
STEPS = 100


# How often each change comes (per 25): mostly choices on lists, now and then a door that
# covers everything.
WEIGHTS = {
    "join": 3,
    "resubscribe": 3,
    "unsubscribe": 3,
    "pause": 3,
    "undo": 3,
    "engage": 2,
    "frequency": 2,
    "import": 1,
    "stop": 1,
    "complaint": 1,
    "bounce": 1,
    "erase": 0.3,
}


def history(seed: int) -> list[tuple]:
    rng = random.Random(seed)
    kinds = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()), k=STEPS)
    return [(kind, rng.choice(PEOPLE), rng.choice(LISTS), rng.randrange(1, 120)) for kind in kinds]


def replay(steps: list[tuple]) -> tuple[list, dict]:
    """Run the steps through storage's functions on the selected consent store; every answer,
    then the state everything ended in."""
    chosen = store.consent_store()
    for list_id in LISTS:
        chosen.add_list(list_id, list_id)
    answers, applied = [], {sid: [] for sid in PEOPLE}
    now = START
    for kind, sid, list_id, minutes in steps:
        now += timedelta(minutes=minutes)
        due = now + timedelta(days=90)
        ctx = AuditContext(Source.PAGE)
        if kind in ("join", "import", "resubscribe"):
            source = Source.IMPORT if kind == "import" else Source.API
            answer = subscribers.subscribe(
                sid, f"{sid}@example.com", list_id, AuditContext(source), now, due, kind == "resubscribe"
            )
        elif kind == "complaint":
            answer = apply(Fact("complaint", sid), now)
        elif kind == "bounce":
            answer = subscribers.suppress_channel(sid, "email", AuditContext(Source.BOUNCE), now)
        elif kind == "engage":
            answer = subscribers.record_engagement(sid, list_id, now, due)
        elif kind == "erase":
            answer = subscribers.erase(sid, now)["lists_kept_as_unsubscribed"]
            applied[sid] = []
        else:
            if kind == "unsubscribe":
                change = subscribers.unsubscribe(sid, list_id, AuditContext(Source.ONE_CLICK), now)
            elif kind == "pause":
                change = subscribers.pause(sid, list_id, now + timedelta(days=30), ctx, now)
            elif kind == "stop":
                change = subscribers.unsubscribe_all(sid, ctx, now)
            elif kind == "frequency":
                change = subscribers.set_frequency(sid, list_id, "weekly", ctx, now)
            elif applied[sid]:  # undo the person's latest change, on its own list
                undone_list, key = applied[sid][-1]
                change = subscribers.undo(sid, undone_list, key, ctx, now, due)
            else:
                change = subscribers.undo(sid, list_id, "EVENT#none", ctx, now, due)
            if change.applied and kind != "undo":
                applied[sid].append((list_id, change.event_key))
            answer = (change.applied, change.outcome, change.status)
        answers.append((kind, sid, list_id, str(answer), person(chosen, sid)))
    return answers, ended_in(chosen, now)


def person(chosen, sid: str) -> tuple:
    """Everything stored about one person but the random parts of event keys."""
    profile, held = chosen.everything(sid)
    return (
        profile and (profile.opted_out_all, sorted(profile.suppressed_channels), len(profile.undone), profile.email),
        sorted(
            (s.list_id, s.status, s.paused_until, s.frequency, s.sunset_due, s.sunset_state, s.reminded) for s in held
        ),
        [(r.action, r.list_id, r.source, r.at) for r in chosen.trail(sid)],
    )


def ended_in(chosen, now: datetime) -> dict:
    people = {sid: person(chosen, sid) for sid in PEOPLE}
    months = (f"{START:%Y-%m}", f"{now:%Y-%m}")
    return {
        "people": people,
        "members": {list_id: chosen.members(list_id) for list_id in LISTS},
        "leaving": {list_id: chosen.leaving_counts(list_id, *months) for list_id in (*LISTS, consent.EVERY_LIST)},
    }


@pytest.mark.parametrize("seed", [1])
def test_memory_and_dynamodb_agree_on_a_long_history(aws, seed):
    steps = history(seed)
    with store.use(consent=MemoryConsentStore()):
        in_memory = replay(steps)
    with store.use(consent=subscribers.DYNAMODB):
        in_dynamodb = replay(steps)
    assert in_memory[0] == in_dynamodb[0]
    assert in_memory[1] == in_dynamodb[1]
    changed = [answer for answer in in_memory[0] if answer[3] in ("subscribed", "resubscribed", "True", "complaint")]
    changed += [answer for answer in in_memory[0] if answer[3].startswith("(True")]
    assert len(changed) > STEPS // 4  # a history that did things, not one refusal after another
