"""Less often and the leaving counters against moto's DynamoDB: the frequency, its consent
event and its counter in one transaction; every consent change counted in its own transaction."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core.contracts import validate
from chalicelib.core.errors import Invalid
from chalicelib.domain import consent
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext, Subscription
from chalicelib.storage.subscribers.counters import LeavingCounter, counter_key
from chalicelib.storage.transactions import Transaction
from chalicelib.unsubscribe.contracts import MAX_FREQUENCIES, Frequencies
from tests.helpers import join

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PAGE = AuditContext("page", ip_hash="abc", key_id="k1", campaign_id="c1")
API = AuditContext("api")


@pytest.fixture
def newsletter(aws):
    lists.create_list("newsletter", "Newsletter")
    lists.create_list("promo", "Promotions")
    for sid in ("s1", "s2"):
        join(sid, f"{sid}@example.com", "newsletter", API, NOW)
        join(sid, f"{sid}@example.com", "promo", API, NOW)
    return "newsletter"


def events(sid="s1", action=None):
    return [e for e in subscribers.consent_events(sid) if action is None or e.action == action]


def counts(list_id="newsletter", month="2026-11"):
    return subscribers.leaving_counts(list_id, month, month).get(month, {})


def test_a_list_stores_its_frequencies_and_an_unknown_list_is_refused(newsletter):
    offered = [{"id": "weekly", "label": "Weekly digest", "labels": {"th": "สรุปรายสัปดาห์"}}]
    assert lists.set_frequencies("newsletter", offered)
    assert lists.get_list("newsletter").frequencies == offered
    assert lists.set_frequencies("newsletter", [])
    assert lists.get_list("newsletter").frequencies is None
    assert not lists.set_frequencies("nope", offered)
    assert lists.get_list("nope") is None


def test_choosing_a_frequency_stores_it_with_its_event_and_counter(newsletter):
    change = subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW)
    assert change.applied and change.status == consent.ACTIVE
    stored = subscribers.get_subscription("s1", "newsletter")
    assert (stored.status, stored.frequency, stored.last_event) == ("active", "weekly", change.event_key)
    event = subscribers.get_event("s1", change.event_key)
    assert (event.action, event.list_id, event.frequency, event.frequency_before, event.source) == (
        "frequency",
        "newsletter",
        "weekly",
        None,
        "page",
    )
    assert counts() == {"frequency#weekly": 1}
    assert subscribers.get_subscription("s1", "promo").frequency is None  # per list


def test_choosing_the_same_frequency_again_records_nothing(newsletter):
    first = subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW)
    again = subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW + timedelta(minutes=1))
    assert not again.applied and again.event_key == first.event_key
    assert len(events(action="frequency")) == 1 and counts() == {"frequency#weekly": 1}


def test_switching_frequency_remembers_the_one_it_replaced(newsletter):
    subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW)
    change = subscribers.set_frequency("s1", "newsletter", "monthly", PAGE, NOW + timedelta(minutes=1))
    event = subscribers.get_event("s1", change.event_key)
    assert (event.frequency, event.frequency_before) == ("monthly", "weekly")
    assert counts() == {"frequency#weekly": 1, "frequency#monthly": 1}


def test_a_frequency_never_resubscribes_someone_who_left(newsletter):
    subscribers.unsubscribe("s1", "newsletter", PAGE, NOW)
    change = subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW + timedelta(minutes=1))
    assert not change.applied and change.status == consent.UNSUBSCRIBED
    stored = subscribers.get_subscription("s1", "newsletter")
    assert (stored.status, stored.frequency) == ("unsubscribed", None)
    assert not events(action="frequency") and "frequency#weekly" not in counts()
    # nobody at all: nothing stored either
    missing = subscribers.set_frequency("s9", "newsletter", "weekly", PAGE, NOW)
    assert (missing.applied, missing.status) == (False, None)
    assert subscribers.get_subscription("s9", "newsletter") is None


def test_a_paused_subscriber_may_choose_a_frequency_and_stays_paused(newsletter):
    subscribers.pause("s1", "newsletter", NOW + timedelta(days=30), PAGE, NOW)
    change = subscribers.set_frequency("s1", "newsletter", "monthly", PAGE, NOW + timedelta(minutes=1))
    stored = subscribers.get_subscription("s1", "newsletter")
    assert change.applied and (stored.status, stored.frequency) == ("paused", "monthly")


def test_a_frequency_unsubscribe_race_leaves_the_person_unsubscribed(newsletter, monkeypatch):
    """The person unsubscribes between the frequency's read and its write: the write fails its
    condition, is read again and stops."""
    real = subscribers.DYNAMODB.subscription
    calls = []

    def read_then_unsubscribe(sid, list_id):
        found = real(sid, list_id)
        if not calls:
            subscribers.unsubscribe(sid, list_id, PAGE, NOW)
        calls.append(1)
        return found

    monkeypatch.setattr(subscribers.DYNAMODB, "subscription", read_then_unsubscribe)
    change = subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW + timedelta(minutes=1))
    assert not change.applied and change.status == consent.UNSUBSCRIBED and len(calls) == 2
    assert subscribers.get_subscription("s1", "newsletter").frequency is None
    assert not events(action="frequency")


def test_undoing_a_frequency_restores_the_one_before_once(newsletter):
    subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW)
    chosen = subscribers.set_frequency("s1", "newsletter", "monthly", PAGE, NOW + timedelta(minutes=1))
    undone = subscribers.undo_frequency("s1", "newsletter", chosen.event_key, PAGE, NOW + timedelta(minutes=2))
    assert undone.applied
    stored = subscribers.get_subscription("s1", "newsletter")
    assert (stored.frequency, stored.last_event) == ("weekly", undone.event_key)
    event = subscribers.get_event("s1", undone.event_key)
    assert (event.action, event.frequency, event.frequency_before) == ("frequency", "weekly", "monthly")
    again = subscribers.undo_frequency("s1", "newsletter", chosen.event_key, PAGE, NOW + timedelta(minutes=3))
    assert not again.applied and len(events(action="frequency")) == 3
    assert counts()["frequency_undone#monthly"] == 1


def test_undoing_the_first_frequency_goes_back_to_every_send(newsletter):
    chosen = subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW)
    assert subscribers.undo_frequency("s1", "newsletter", chosen.event_key, PAGE, NOW + timedelta(minutes=1)).applied
    assert subscribers.get_subscription("s1", "newsletter").frequency is None


def test_an_undo_never_overrides_a_later_choice(newsletter):
    chosen = subscribers.set_frequency("s1", "newsletter", "weekly", PAGE, NOW)
    subscribers.unsubscribe("s1", "newsletter", PAGE, NOW + timedelta(minutes=1))
    assert not subscribers.undo_frequency(
        "s1", "newsletter", chosen.event_key, PAGE, NOW + timedelta(minutes=2)
    ).applied
    stored = subscribers.get_subscription("s1", "newsletter")
    assert stored.status == "unsubscribed"
    # an event of another kind, or of another list, is not undone as a frequency
    paused = subscribers.pause("s1", "promo", NOW + timedelta(days=30), PAGE, NOW)
    assert not subscribers.undo_frequency("s1", "promo", paused.event_key, PAGE, NOW).applied
    assert not subscribers.undo_frequency("s1", "promo", chosen.event_key, PAGE, NOW).applied


def test_every_consent_change_is_counted_by_source_in_its_own_transaction(newsletter):
    subscribers.unsubscribe("s1", "newsletter", AuditContext("one-click"), NOW)
    subscribers.unsubscribe("s1", "newsletter", AuditContext("one-click"), NOW)  # a repeat: not counted
    subscribers.unsubscribe("s7", "newsletter", AuditContext("one-click"), NOW)  # never seen: kept, and counted
    paused = subscribers.pause("s2", "newsletter", NOW + timedelta(days=30), PAGE, NOW)
    subscribers.undo("s2", "newsletter", paused.event_key, PAGE, NOW, sunset_due=NOW)
    assert counts() == {"unsubscribe#one-click": 2, "pause#page": 1, "resume#page": 1}
    left = subscribers.unsubscribe("s2", "promo", PAGE, NOW + timedelta(days=40))
    subscribers.undo("s2", "promo", left.event_key, PAGE, NOW + timedelta(days=40), sunset_due=NOW)
    assert counts("promo", "2027-01") == {"unsubscribe#page": 1, "resubscribe#page": 1}


def test_stop_everything_is_counted_once_and_on_every_list_it_left(newsletter):
    change = subscribers.unsubscribe_all("s1", AuditContext("complaint"), NOW)
    everything = counts("*")
    assert everything == {
        "unsubscribe_all#complaint": 1,
        "unsubscribe#complaint@newsletter": 1,
        "unsubscribe#complaint@promo": 1,
    }
    subscribers.unsubscribe_all("s1", AuditContext("complaint"), NOW)  # nothing left to stop: not counted
    assert counts("*") == everything
    subscribers.undo("s1", "newsletter", change.event_key, PAGE, NOW, sunset_due=NOW)
    assert counts("*")["resubscribe#page@newsletter"] == 1 and counts("*")["resubscribe_all#page"] == 1


def test_stop_everything_across_more_lists_than_one_transaction_counts_each_list(aws):
    many = [f"l{i:02d}" for i in range(subscribers.LISTS_PER_TRANSACTION + 5)]
    for list_id in many:
        lists.create_list(list_id, list_id)
        join("s1", "s1@example.com", list_id, API, NOW)
    subscribers.unsubscribe_all("s1", AuditContext("erasure"), NOW)
    everything = counts("*")
    assert all(everything[f"unsubscribe#erasure@{list_id}"] == 1 for list_id in many)
    assert everything["unsubscribe_all#erasure"] == 1


def test_a_sunset_unsubscribe_is_counted_with_its_event(newsletter):
    Subscription("s1", "LIST#newsletter").update(
        actions=[Subscription.sunset_state.set("pending"), Subscription.reminder_sent_at.set(NOW)]
    )
    candidate = subscribers.get_subscription("s1", "newsletter")
    assert subscribers.sunset_unsubscribe(candidate, NOW + timedelta(days=14))
    assert counts(month="2026-12") == {"unsubscribe#sunset": 1}


def test_counters_are_sharded_and_summed_per_month(newsletter):
    assert counter_key("newsletter", "s1", NOW)[1].startswith("2026-11#")
    for sid in ("a1", "b2", "c3", "d4"):
        subscribers.unsubscribe(sid, "newsletter", AuditContext("mailto"), NOW)
    subscribers.unsubscribe("e5", "newsletter", AuditContext("mailto"), NOW + timedelta(days=40))
    shards = {counter_key("newsletter", sid, NOW) for sid in ("a1", "b2", "c3", "d4")}
    assert len(shards) > 1
    assert subscribers.leaving_counts("newsletter", "2026-11", "2027-01") == {
        "2026-11": {"unsubscribe#mailto": 4},
        "2027-01": {"unsubscribe#mailto": 1},
    }
    assert subscribers.leaving_counts("newsletter", "2026-12", "2026-12") == {}


def test_a_counter_item_never_fails_a_transaction_on_its_own(newsletter):
    from chalicelib.storage.subscribers.counters import count_in

    transaction = count_in(Transaction(), "newsletter", "s1", NOW, ["unsubscribe#page", "unsubscribe#page"])
    transaction.commit()
    assert counts() == {"unsubscribe#page": 2}
    assert LeavingCounter  # the raw counters live on items of this class's keys


@pytest.mark.parametrize(
    "value, fails",
    [
        ([{"id": "weekly", "label": "Weekly digest"}], False),
        ([{"id": "weekly", "label": " Weekly ", "labels": {"th": "รายสัปดาห์"}}], False),
        ([], False),
        ([{"id": f"f{i}", "label": "x"} for i in range(MAX_FREQUENCIES + 1)], True),
        ([{"id": "weekly", "label": "a"}, {"id": "weekly", "label": "b"}], True),
        ([{"id": "Weekly", "label": "a"}], True),
        ([{"id": "x" * 33, "label": "a"}], True),
        ([{"id": "weekly", "label": ""}], True),
        ([{"id": "weekly", "label": "x" * 81}], True),
        ([{"id": "weekly", "label": "a\nb"}], True),
        ([{"id": "weekly", "label": "a", "labels": {"fr": "b"}}], True),
        ([{"id": "weekly", "label": "a", "extra": 1}], True),
        ([{"id": "weekly"}], True),
        (["weekly"], True),
        ({"id": "weekly"}, True),
        (None, True),
    ],
)
def test_frequencies_are_validated(value, fails):
    if fails:
        with pytest.raises(Invalid):
            validate(Frequencies, {"frequencies": value}, "bad_frequencies")
    else:
        cleaned = validate(Frequencies, {"frequencies": value}, "bad_frequencies").as_stored()
        assert all(f["label"] == f["label"].strip() for f in cleaned)


def test_a_page_choice_names_a_frequency_only_in_its_own_form():
    assert consent.frequency_of("frequency:weekly") == "weekly"
    assert consent.frequency_of("frequency:") is None and consent.frequency_of("frequency:../x") is None
    assert consent.frequency_of("list") is None and consent.frequency_of(None) is None
    offered = [{"id": "weekly", "label": "Weekly digest", "labels": {"th": "สรุปรายสัปดาห์"}}]
    assert consent.frequency_label(offered, "weekly", "th") == "สรุปรายสัปดาห์"
    assert consent.frequency_label(offered, "weekly", "en") == "Weekly digest"
    assert (
        consent.frequency_label(offered, "gone", "en") == "gone"
        and consent.frequency_label(offered, None, "en") is None
    )
