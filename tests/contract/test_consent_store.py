"""The consent store's contract, on the in-memory store and on moto: every consent change as the
services make it (storage's `subscribe`, `unsubscribe`, `pause`, `unsubscribe_all`, `undo`, the
complaint door, engagement, erasure), its event, its counters, and what a repeat does."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import consent
from chalicelib.domain.consent import AuditContext, Source
from chalicelib.storage import store, subscribers
from chalicelib.sunset.engagement import Fact, apply
from tests.moto_atomic import atomic_dynamodb  # noqa: F401  (fixture)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
DUE = NOW + timedelta(days=180)
API = AuditContext(Source.API)
IMPORT = AuditContext(Source.IMPORT)
ONE_CLICK = AuditContext(Source.ONE_CLICK, ip_hash="abc", key_id="k1")
PAGE = AuditContext(Source.PAGE)
MONTH = f"{NOW:%Y-%m}"


def join(sid, list_id, when=NOW, resubscribe=False, ctx=API):
    return subscribers.subscribe(sid, f"{sid}@example.com", list_id, ctx, when, DUE, resubscribe)


@pytest.fixture
def lists(consent_store):
    for list_id in ("news", "promo"):
        consent_store.add_list(list_id, list_id.title())
    join("s1", "news")
    join("s1", "promo")
    return consent_store


def status(store, list_id, sid="s1"):
    return store.subscription(sid, list_id).status


def trail(store, sid="s1"):
    return [(r.action, r.list_id, r.source) for r in store.trail(sid)]


def counts(store, list_id):
    return store.leaving_counts(list_id, MONTH, MONTH).get(MONTH, {})


def test_subscribing_joins_once_and_counts_the_member(lists):
    assert status(lists, "news") == consent.ACTIVE and lists.members("news") == 1
    assert join("s1", "news", NOW + timedelta(hours=1)) == consent.Outcome.ALREADY_SUBSCRIBED
    assert lists.members("news") == 1 and trail(lists).count(("subscribe", "news", "api")) == 1
    assert lists.subscription("s1", "news").sunset_due is not None  # on the sunset clock


def test_unsubscribing_is_done_once_with_its_event_member_count_and_counter(lists):
    first = subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW)
    again = subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW + timedelta(hours=1))
    assert first.applied and not again.applied and again.event_key == first.event_key
    held = lists.subscription("s1", "news")
    assert (held.status, held.last_event, held.sunset_due) == (consent.UNSUBSCRIBED, first.event_key, None)
    assert lists.members("news") == 0 and lists.members("promo") == 1
    assert trail(lists).count(("unsubscribe", "news", "one-click")) == 1
    assert counts(lists, "news") == {"unsubscribe#one-click": 1}
    assert lists.event("s1", first.event_key).action == consent.Action.UNSUBSCRIBE


def test_an_import_never_brings_back_someone_who_left_only_a_resubscribe_does(lists):
    subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW)
    assert join("s1", "news", NOW + timedelta(days=1), ctx=IMPORT) == consent.Outcome.PREVIOUSLY_UNSUBSCRIBED
    assert status(lists, "news") == consent.UNSUBSCRIBED and lists.members("news") == 0
    assert join("s1", "news", NOW + timedelta(days=2), resubscribe=True) == consent.Outcome.RESUBSCRIBED
    assert status(lists, "news") == consent.ACTIVE and lists.members("news") == 1


def test_an_unknown_list_is_refused_and_nothing_is_written(lists):
    with pytest.raises(subscribers.UnknownList):
        subscribers.unsubscribe("s1", "gone", ONE_CLICK, NOW)
    with pytest.raises(subscribers.UnknownList):
        join("s2", "gone")
    assert lists.subscription("s1", "gone").status is None and lists.subscription("s2", "gone").status is None
    assert all(list_id != "gone" for _, list_id, _ in trail(lists)) and lists.trail("s2") == []


def test_an_unsubscribe_of_someone_never_seen_is_kept_against_a_later_import(lists):
    change = subscribers.unsubscribe("s9", "news", ONE_CLICK, NOW)
    assert change.applied and status(lists, "news", "s9") == consent.UNSUBSCRIBED
    assert lists.members("news") == 1  # s1 only: a member never counted is not taken away
    assert join("s9", "news", NOW + timedelta(days=1), ctx=IMPORT) == consent.Outcome.PREVIOUSLY_UNSUBSCRIBED


def test_a_pause_is_recorded_once_extends_and_never_brings_back_someone_who_left(lists):
    until = NOW + timedelta(days=30)
    paused = subscribers.pause("s1", "news", until, PAGE, NOW)
    repeat = subscribers.pause("s1", "news", until, PAGE, NOW + timedelta(minutes=1))
    assert paused.applied and not repeat.applied and repeat.outcome == consent.Outcome.ALREADY_PAUSED
    held = lists.subscription("s1", "news")
    assert (held.status, held.paused_until) == (consent.PAUSED, until) and lists.members("news") == 1
    longer = subscribers.pause("s1", "news", until + timedelta(days=60), PAGE, NOW + timedelta(minutes=2))
    assert longer.applied and lists.subscription("s1", "news").paused_until == until + timedelta(days=60)
    subscribers.unsubscribe("s1", "promo", PAGE, NOW)
    refused = subscribers.pause("s1", "promo", until, PAGE, NOW + timedelta(minutes=3))
    assert not refused.applied and status(lists, "promo") == consent.UNSUBSCRIBED
    assert counts(lists, "news") == {"pause#page": 2}


def test_stopping_everything_leaves_every_list_and_opts_out_of_future_ones_once(lists):
    change = subscribers.unsubscribe_all("s1", PAGE, NOW)
    again = subscribers.unsubscribe_all("s1", PAGE, NOW + timedelta(minutes=1))
    assert change.applied and not again.applied and again.event_key == change.event_key
    profile, held = lists.everything("s1")
    assert profile.opted_out_all and profile.opted_out_event == change.event_key
    assert {s.list_id: s.status for s in held} == {"news": consent.UNSUBSCRIBED, "promo": consent.UNSUBSCRIBED}
    assert lists.members("news") == lists.members("promo") == 0
    assert lists.event("s1", change.event_key).lists == ("news", "promo")
    assert trail(lists).count(("unsubscribe_all", "*", "page")) == 1
    assert counts(lists, "*") == {"unsubscribe_all#page": 1, "unsubscribe#page@news": 1, "unsubscribe#page@promo": 1}


def test_a_complaint_after_unsubscribing_every_list_still_suppresses(lists):
    """The person left each list, then marked a mail as spam: the complaint is not "already
    done", it opts them out of every list, including lists they are added to later."""
    subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW)
    subscribers.unsubscribe("s1", "promo", ONE_CLICK, NOW)
    assert apply(Fact("complaint", "s1"), NOW + timedelta(hours=1)) == "complaint"
    profile, _ = lists.everything("s1")
    assert profile.opted_out_all
    assert trail(lists).count(("unsubscribe_all", "*", "complaint")) == 1
    assert apply(Fact("complaint", "s1"), NOW + timedelta(hours=2)) == "complaint_already"
    lists.add_list("later", "Later")
    # Stopping everything covers the lists to come: an import into one is refused, and says so.
    assert join("s1", "later", NOW + timedelta(days=1), ctx=IMPORT) == "previously_unsubscribed"
    later = lists.subscription("s1", "later")
    assert later is None or later.status is None
    assert lists.members("later") == 0
    allowed = consent.may_send(None, None, profile.opted_out_all, set(), "email", NOW)
    assert not allowed.allowed
    # Consent given again, explicitly, is what brings them back (and lifts the opt-out).
    assert join("s1", "later", NOW + timedelta(days=2), resubscribe=True, ctx=IMPORT) == "resubscribed"
    assert lists.subscription("s1", "later").status == consent.ACTIVE and not lists.everything("s1")[0].opted_out_all


def test_undoing_an_unsubscribe_restores_the_list_once(lists):
    left = subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW)
    undone = subscribers.undo("s1", "news", left.event_key, PAGE, NOW + timedelta(minutes=1), DUE)
    twice = subscribers.undo("s1", "news", left.event_key, PAGE, NOW + timedelta(minutes=2), DUE)
    assert undone.applied and not twice.applied and twice.outcome == consent.Outcome.NOTHING_TO_UNDO
    assert status(lists, "news") == consent.ACTIVE and lists.members("news") == 1
    assert counts(lists, "news") == {"unsubscribe#one-click": 1, "resubscribe#page": 1}


def test_an_undo_never_overrides_a_later_choice(lists):
    paused = subscribers.pause("s1", "news", NOW + timedelta(days=30), PAGE, NOW)
    subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW + timedelta(minutes=1))
    late = subscribers.undo("s1", "news", paused.event_key, PAGE, NOW + timedelta(minutes=2), DUE)
    assert not late.applied and status(lists, "news") == consent.UNSUBSCRIBED


def test_undoing_a_stop_everything_restores_its_lists_and_lifts_the_opt_out_once(lists):
    subscribers.unsubscribe("s1", "promo", ONE_CLICK, NOW)  # left before: stays left
    stop = subscribers.unsubscribe_all("s1", PAGE, NOW + timedelta(minutes=1))
    undone = subscribers.undo("s1", "news", stop.event_key, PAGE, NOW + timedelta(minutes=2), DUE)
    twice = subscribers.undo("s1", "news", stop.event_key, PAGE, NOW + timedelta(minutes=3), DUE)
    assert undone.applied and not twice.applied
    profile, held = lists.everything("s1")
    assert not profile.opted_out_all and stop.event_key in profile.undone
    assert {s.list_id: s.status for s in held} == {"news": consent.ACTIVE, "promo": consent.UNSUBSCRIBED}
    assert lists.members("news") == 1 and lists.members("promo") == 0


def test_keep_engagement_only_moves_forward_and_only_while_receiving(lists):
    later = NOW + timedelta(days=3)
    assert subscribers.record_engagement("s1", "news", later, later + timedelta(days=90))
    assert not subscribers.record_engagement("s1", "news", NOW + timedelta(days=1), DUE)  # older: stays
    assert lists.subscription("s1", "news").sunset_due.startswith(f"{later + timedelta(days=90):%Y-%m-%d}#")
    subscribers.unsubscribe("s1", "promo", ONE_CLICK, NOW)
    assert not subscribers.record_engagement("s1", "promo", later, DUE)
    held = lists.subscription("s1", "promo")
    decision = consent.plan_keep(held)
    assert decision.outcome == consent.Outcome.ALREADY_UNSUBSCRIBED and status(lists, "promo") == consent.UNSUBSCRIBED


def test_a_bounce_suppresses_the_channel_once(lists):
    ctx = AuditContext(Source.BOUNCE)
    assert subscribers.suppress_channel("s1", "email", ctx, NOW)
    assert not subscribers.suppress_channel("s1", "email", ctx, NOW + timedelta(minutes=1))
    assert lists.everything("s1")[0].suppressed_channels == {"email"}
    assert trail(lists).count(("suppress_email", "*", "bounce")) == 1


def test_a_frequency_is_chosen_once_and_its_undo_restores_the_one_before(lists):
    chosen = subscribers.set_frequency("s1", "news", "weekly", PAGE, NOW)
    held = subscribers.set_frequency("s1", "news", "weekly", PAGE, NOW + timedelta(minutes=1))
    assert chosen.applied and not held.applied and lists.subscription("s1", "news").frequency == "weekly"
    undone = subscribers.undo_frequency("s1", "news", chosen.event_key, PAGE, NOW + timedelta(minutes=2))
    again = subscribers.undo_frequency("s1", "news", chosen.event_key, PAGE, NOW + timedelta(minutes=3))
    assert undone.applied and not again.applied and lists.subscription("s1", "news").frequency is None


def test_erasure_keeps_only_the_choice(lists):
    subscribers.pause("s1", "promo", NOW + timedelta(days=30), PAGE, NOW)
    report = subscribers.erase("s1", NOW + timedelta(hours=1))
    assert report["lists_kept_as_unsubscribed"] == 2 and report["events_deleted"] >= 4
    profile, held = lists.everything("s1")
    assert profile.opted_out_all and profile.email is None
    assert {s.status for s in held} == {consent.UNSUBSCRIBED} and lists.trail("s1") == []
    assert lists.members("news") == lists.members("promo") == 0
    assert join("s1", "news", NOW + timedelta(days=1), ctx=IMPORT) == consent.Outcome.PREVIOUSLY_UNSUBSCRIBED


def test_a_stop_everything_over_more_lists_than_one_transaction_holds_leaves_them_all(consent_store):
    many = [f"l{n:02d}" for n in range(consent.LISTS_PER_TRANSACTION + 5)]
    for list_id in many:
        consent_store.add_list(list_id, list_id)
        join("s1", list_id)
    change = subscribers.unsubscribe_all("s1", PAGE, NOW)
    assert change.applied
    _, held = consent_store.everything("s1")
    assert len(held) == len(many) and {s.status for s in held} == {consent.UNSUBSCRIBED}
    assert sum(consent_store.members(list_id) for list_id in many) == 0


class ReadsThenWaits:
    """The store, with a pause after each read: every thread reads before any of them commits,
    so their commits race on the preconditions."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def everything(self, subscriber_id):
        read = self._store.everything(subscriber_id)
        time.sleep(0.02)
        return read


def test_concurrent_unsubscribes_and_stops_apply_once(lists, request):
    """Eight threads leave the same list and eight stop everything, at once: the stop applies
    once, the list is left once (by an unsubscribe, or by the stop), the member counts move once."""
    if "moto" in request.node.callspec.id:
        request.getfixturevalue("atomic_dynamodb")  # DynamoDB's own atomicity, which moto lacks
    results = []

    def run(change):
        results.append(change())

    threads = [
        threading.Thread(target=run, args=(lambda: subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW),))
        for _ in range(8)
    ] + [threading.Thread(target=run, args=(lambda: subscribers.unsubscribe_all("s1", PAGE, NOW),)) for _ in range(8)]
    with store.use(consent=ReadsThenWaits(lists)):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 16
    left = trail(lists).count(("unsubscribe", "news", "one-click"))
    assert left <= 1 and sum(change.applied for change in results) == left + 1
    assert trail(lists).count(("unsubscribe_all", "*", "page")) == 1
    assert lists.members("news") == 0 and lists.members("promo") == 0


def test_concurrent_complaints_after_leaving_every_list_opt_out_once(lists, request):
    """Nothing left to leave: only the profile's precondition keeps eight complaints, read at
    once, from recording eight opt-outs."""
    if "moto" in request.node.callspec.id:
        request.getfixturevalue("atomic_dynamodb")
    subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW)
    subscribers.unsubscribe("s1", "promo", ONE_CLICK, NOW)
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(apply(Fact("complaint", "s1"), NOW + timedelta(hours=1))))
        for _ in range(8)
    ]
    with store.use(consent=ReadsThenWaits(lists)):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == ["complaint", *["complaint_already"] * 7]
    assert trail(lists).count(("unsubscribe_all", "*", "complaint")) == 1
    assert counts(lists, "*") == {"unsubscribe_all#complaint": 1}


def test_a_complaint_after_the_persons_stop_everything_replaces_it_so_its_undo_is_refused(lists, request):
    """F9: eight deliveries of a complaint, read at once, over a stop-everything from the page:
    recorded once (the profile's precondition names the opt-out read), and it holds against the
    undo of the page's choice."""
    if "moto" in request.node.callspec.id:
        request.getfixturevalue("atomic_dynamodb")
    stop = subscribers.unsubscribe_all("s1", PAGE, NOW)
    outcomes = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(apply(Fact("complaint", "s1"), NOW + timedelta(hours=1))))
        for _ in range(8)
    ]
    with store.use(consent=ReadsThenWaits(lists)):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == ["complaint", *["complaint_already"] * 7]
    assert trail(lists).count(("unsubscribe_all", "*", "complaint")) == 1
    profile, _ = lists.everything("s1")
    assert profile.opted_out_all and profile.opted_out_source == "complaint"
    assert profile.opted_out_event != stop.event_key
    undo = subscribers.undo("s1", "news", stop.event_key, PAGE, NOW + timedelta(hours=2), DUE)
    assert not undo.applied and undo.outcome == consent.Outcome.NOTHING_TO_UNDO
    assert status(lists, "news") == status(lists, "promo") == consent.UNSUBSCRIBED
    assert lists.everything("s1")[0].opted_out_all and lists.members("news") == 0
    # Counted as the complaint it is, once; the lists were counted as left by the page.
    assert counts(lists, "*") == {
        "unsubscribe_all#page": 1,
        "unsubscribe#page@news": 1,
        "unsubscribe#page@promo": 1,
        "unsubscribe_all#complaint": 1,
    }


def test_a_one_click_after_the_persons_stop_everything_is_the_lists_own_choice_which_undo_keeps(lists):
    stop = subscribers.unsubscribe_all("s1", PAGE, NOW)
    first = subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW + timedelta(minutes=1))
    again = subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW + timedelta(minutes=2))
    assert first.applied and first.event_key != stop.event_key
    assert not again.applied and again.event_key == first.event_key
    assert trail(lists).count(("unsubscribe", "news", "one-click")) == 1
    held = lists.subscription("s1", "news")
    assert (held.status, held.last_event) == (consent.UNSUBSCRIBED, first.event_key)
    assert counts(lists, "news") == {}  # left once, by the stop-everything
    undone = subscribers.undo("s1", "promo", stop.event_key, PAGE, NOW + timedelta(minutes=3), DUE)
    assert undone.applied and not lists.everything("s1")[0].opted_out_all
    assert (status(lists, "news"), status(lists, "promo")) == (consent.UNSUBSCRIBED, consent.ACTIVE)
    assert lists.members("news") == 0 and lists.members("promo") == 1


def test_committing_the_same_plan_again_is_one_change(lists):
    """A retried commit (the first attempt landed, its answer was lost) finds its own event and
    writes nothing more."""
    plan = consent.plan_unsubscribe(consent.UNKNOWN, "news", ONE_CLICK, NOW)
    assert lists.commit("s1", plan, NOW) is None
    assert lists.commit("s1", plan, NOW) is None
    assert lists.members("news") == 0 and counts(lists, "news") == {"unsubscribe#one-click": 1}
    assert trail(lists).count(("unsubscribe", "news", "one-click")) == 1


def test_a_stale_plan_hands_back_the_state_as_it_is(lists):
    paused = consent.plan_pause(consent.UNKNOWN, "news", NOW + timedelta(days=30), PAGE, NOW)
    subscribers.unsubscribe("s1", "news", ONE_CLICK, NOW)
    stale = lists.commit("s1", paused, NOW)
    assert stale.first and stale.subscriptions["news"].status == consent.UNSUBSCRIBED
    assert stale.profile is None and lists.members("news") == 0


def test_sms_keywords_apply_in_the_order_they_were_sent(consent_store):
    ctx = AuditContext(Source.SMS_KEYWORD)
    stop = subscribers.sms_opt_out("n1", NOW + timedelta(minutes=2), ctx, NOW)
    late_start = subscribers.sms_resume("n1", NOW + timedelta(minutes=1), ctx, NOW)  # sent before the STOP
    repeat = subscribers.sms_opt_out("n1", NOW + timedelta(minutes=3), ctx, NOW)
    assert stop.applied and not late_start.applied and not repeat.applied
    assert consent_store.everything("n1")[0].suppressed_channels == {"sms"}
    start = subscribers.sms_resume("n1", NOW + timedelta(minutes=4), ctx, NOW)
    older_stop = subscribers.sms_opt_out("n1", NOW + timedelta(minutes=3, seconds=30), ctx, NOW)
    assert start.applied and not older_stop.applied
    assert consent_store.everything("n1")[0].suppressed_channels == frozenset()
    assert [r.action for r in consent_store.trail("n1")] == ["suppress_sms", "resume_sms"]
