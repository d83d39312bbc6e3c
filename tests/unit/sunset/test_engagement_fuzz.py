"""Type fuzz (issue 9, item 5): every field of every SES record fixture (ours and AWS's
published examples) and of the webhook's events, walked recursively, replaced by each wrongly
typed value in turn. Parsing gives facts fit to store, or a BadRecord (counted "malformed"),
never anything else."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from chalicelib.core.ids import ID_PATTERN
from chalicelib.sunset import engagement
from tests.helpers import FIXTURES, RECORD_TYPES, record


def deep_list(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def deep_object(depth: int):
    value: dict = {}
    for _ in range(depth):
        value = {"a": value}
    return value


WRONG = (
    None,
    True,
    0,
    -1,
    1e308,
    "",
    "x" * 100_000,
    [],
    {},
    deep_list(500),
    deep_object(500),
)
KINDS = {"sent", "engaged", "complaint", "hard_bounce", "soft_bounce", "unsubscribe_all", "ignored"}


def paths(value, prefix=()):
    """Every place in a JSON document, the document itself included."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def replaced(document, path, value):
    if not path:
        return value
    copied = copy.deepcopy(document)
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


def mutations(document):
    for path in paths(document):
        for value in WRONG:
            yield path, value, replaced(document, path, value)


def check_facts(facts) -> str | None:
    """What would be wrong with storing these facts, if anything."""
    if not isinstance(facts, list):
        return f"not a list: {facts!r}"
    latest = datetime.now(UTC) + engagement.FUTURE_TOLERANCE
    for fact in facts:
        if not isinstance(fact, engagement.Fact) or fact.kind not in KINDS:
            return f"not a fact: {fact!r}"
        if fact.kind == "ignored":
            if not isinstance(fact.why, str):
                return f"ignored without a reason: {fact!r}"
            continue
        if not (isinstance(fact.subscriber_id, str) and ID_PATTERN.fullmatch(fact.subscriber_id)):
            return f"bad subscriber id: {fact!r}"
        if fact.list_id is not None and not (isinstance(fact.list_id, str) and ID_PATTERN.fullmatch(fact.list_id)):
            return f"bad list id: {fact!r}"
        if not (isinstance(fact.at, datetime) and fact.at.tzinfo and engagement.EARLIEST <= fact.at <= latest):
            return f"bad time: {fact!r}"
        if fact.kind in ("sent", "engaged") and fact.list_id is None:
            return f"no list: {fact!r}"
        if fact.kind == "sent" and not (isinstance(fact.message_id, str) and 0 < len(fact.message_id) <= 200):
            return f"bad message id: {fact!r}"
    return None


def fuzz(parse, document) -> list[str]:
    problems = []
    for path, value, mutated in mutations(document):
        try:
            facts = parse(mutated)
        except engagement.BadRecord:
            continue
        except Exception as error:  # noqa: BLE001  (that is what this test looks for)
            problems.append(f"{path} = {str(value)[:20]}: {type(error).__name__}: {str(error)[:80]}")
            continue
        problem = check_facts(facts)
        if problem:
            problems.append(f"{path} = {str(value)[:20]}: {problem[:200]}")
    return problems


AWS_EXAMPLES = sorted(str(p.relative_to(FIXTURES)) for p in (FIXTURES / "aws").rglob("*.json"))


@pytest.mark.parametrize("name", RECORD_TYPES)
def test_our_fixtures_survive_every_wrong_type(name, settings):
    assert fuzz(engagement.parse_ses_record, record(name, "sfuzzsubscriber")) == []


@pytest.mark.parametrize("path", AWS_EXAMPLES)
def test_the_published_examples_survive_every_wrong_type(path, settings):
    document = json.loads((FIXTURES / path).read_text())
    document["mail"].setdefault("tags", {}).update({"offboard-subscriber": ["s1"], "offboard-list": ["newsletter"]})
    assert fuzz(engagement.parse_ses_record, document) == []


def test_sns_messages_survive_every_wrong_type_and_any_text(settings):
    document = record("complaint", "sfuzzsubscriber")
    assert fuzz(lambda message: engagement.parse_sns_record(json.dumps(message)), document) == []
    for text in ("", "{not json", "null", "[]", "1e999", "1" * 10_000, "[" * 100_000 + "]" * 100_000, '{"a":' * 50_000):
        with pytest.raises(engagement.BadRecord):
            engagement.parse_sns_record(text)


WEBHOOK_EVENTS = (
    {"type": "send", "subscriber_id": "s1", "list_id": "newsletter", "at": "2026-11-21T00:00:00Z", "message_id": "m-1"},
    {
        "type": "open",
        "email": "John <recipient@example.com>",
        "list_id": "newsletter",
        "at": "2026-11-21T00:00:00Z",
        "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)",
        "machine": False,
    },
    {"type": "bounce", "email": "recipient@example.com", "at": "2026-11-21T00:00:00Z", "bounce_type": "permanent"},
    {"type": "complaint", "subscriber_id": "s1", "list_id": "newsletter", "at": "2026-11-21T00:00:00+02:00"},
)


@pytest.mark.parametrize("event", WEBHOOK_EVENTS, ids=lambda event: event["type"])
def test_webhook_events_survive_every_wrong_type(event, settings):
    assert check_facts(engagement.parse_webhook_event(event)) is None
    assert fuzz(engagement.parse_webhook_event, event) == []


@pytest.mark.parametrize(
    ("spelling", "hard"), [("permanent", True), ("Permanent", True), ("PERMANENT", True), ("Transient", False)]
)
def test_a_bounce_type_is_read_in_any_case(spelling, hard):
    """SES spells it `Permanent`; a sender forwarding that field unchanged must still suppress."""
    event = {"type": "bounce", "subscriber_id": "s1", "at": "2026-11-21T00:00:00Z", "bounce_type": spelling}
    [fact] = engagement.parse_webhook_event(event)
    assert fact.kind == (engagement.Kind.HARD_BOUNCE if hard else engagement.Kind.SOFT_BOUNCE)
