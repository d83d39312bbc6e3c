"""The subscribers table family against moto's DynamoDB: every consent change and its audit."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import consent
from chalicelib.storage import lists, subscribers
from chalicelib.storage.subscribers import AuditContext
from tests.helpers import join

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
API = AuditContext("api")
ONE_CLICK = AuditContext("one-click", ip_hash="abc", user_agent="Google", key_id="k1", campaign_id="c1")


@pytest.fixture
def newsletter(aws):
    lists.create_list("newsletter", "Newsletter")
    lists.create_list("promo", "Promotions")
    join("s1", "a@example.com", "newsletter", API, NOW)
    join("s1", "a@example.com", "promo", API, NOW)
    return "newsletter"


def actions(sid="s1"):
    return [(e.action, e.list_id, e.source) for e in subscribers.consent_events(sid)]


def test_unsubscribing_changes_the_status_and_records_one_event_with_its_context(newsletter):
    change = subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW)
    assert change.applied
    stored = subscribers.get_subscription("s1", "newsletter")
    assert (stored.status, stored.unsubscribed_at, stored.last_event) == ("unsubscribed", NOW, change.event_key)
    event = subscribers.get_event("s1", change.event_key)
    assert (event.source, event.ip_hash, event.user_agent, event.key_id, event.campaign_id) == (
        "one-click",
        "abc",
        "Google",
        "k1",
        "c1",
    )


def test_repeating_an_unsubscribe_keeps_the_first_time_and_adds_no_event(newsletter):
    first = subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW)
    again = subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW + timedelta(hours=1))
    assert not again.applied and again.event_key == first.event_key
    assert subscribers.get_subscription("s1", "newsletter").unsubscribed_at == NOW
    assert actions().count(("unsubscribe", "newsletter", "one-click")) == 1


def test_an_unknown_list_changes_nothing(newsletter):
    with pytest.raises(subscribers.UnknownList):
        subscribers.unsubscribe("s1", "nope", ONE_CLICK, NOW)
    assert subscribers.get_subscription("s1", "nope") is None
    assert all(a[1] != "nope" for a in actions())


def test_an_unsubscribe_for_an_unknown_subscriber_is_kept_so_a_later_import_cannot_add_them(newsletter):
    assert subscribers.unsubscribe("s2", "newsletter", ONE_CLICK, NOW).applied
    assert join("s2", "b@example.com", "newsletter", API, NOW) == "previously_unsubscribed"
    assert subscribers.get_subscription("s2", "newsletter").status == "unsubscribed"


def test_an_import_never_resubscribes_but_an_explicit_resubscribe_does(newsletter):
    subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW)
    assert join("s1", "a@example.com", "newsletter", API, NOW) == "previously_unsubscribed"
    assert join("s1", "a@example.com", "newsletter", API, NOW, resubscribe=True) == "resubscribed"
    assert subscribers.get_subscription("s1", "newsletter").status == "active"
    assert subscribers.get_subscription("s1", "newsletter").unsubscribed_at is None


def test_unsubscribe_all_leaves_every_list_in_one_event_and_undo_restores_them(newsletter):
    change = subscribers.unsubscribe_all("s1", AuditContext("page"), NOW)
    assert {s.list_id: s.status for s in subscribers.subscriptions_of("s1")} == {
        "newsletter": "unsubscribed",
        "promo": "unsubscribed",
    }
    assert subscribers.get_profile("s1").opted_out_all is True
    event = subscribers.get_event("s1", change.event_key)
    assert (event.action, event.list_id, sorted(event.lists)) == ("unsubscribe_all", "*", ["newsletter", "promo"])

    undone = subscribers.undo("s1", "newsletter", change.event_key, AuditContext("page"), NOW, sunset_due=NOW)
    assert undone.applied
    assert {s.status for s in subscribers.subscriptions_of("s1")} == {"active"}
    assert subscribers.get_profile("s1").opted_out_all is False
    assert not subscribers.undo("s1", "newsletter", change.event_key, AuditContext("page"), NOW, sunset_due=NOW).applied


def test_undo_never_overrides_a_later_choice(newsletter):
    first = subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW)
    join("s1", "a@example.com", "newsletter", API, NOW, resubscribe=True)
    subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW)
    assert not subscribers.undo("s1", "newsletter", first.event_key, API, NOW, sunset_due=NOW).applied
    assert subscribers.get_subscription("s1", "newsletter").status == "unsubscribed"


def test_undo_is_scoped_to_the_tokens_list(newsletter):
    change = subscribers.unsubscribe("s1", "promo", ONE_CLICK, NOW)
    assert not subscribers.undo("s1", "newsletter", change.event_key, API, NOW, sunset_due=NOW).applied
    assert subscribers.get_subscription("s1", "promo").status == "unsubscribed"


def test_pause_and_resume(newsletter):
    until = NOW + timedelta(days=30)
    change = subscribers.pause("s1", "newsletter", until, AuditContext("page"), NOW)
    stored = subscribers.get_subscription("s1", "newsletter")
    assert (stored.status, stored.paused_until) == ("paused", until)
    assert subscribers.get_event("s1", change.event_key).until == until
    assert subscribers.undo("s1", "newsletter", change.event_key, API, NOW, sunset_due=NOW).applied
    assert subscribers.get_subscription("s1", "newsletter").status == "active"
    assert {("pause", "newsletter", "page"), ("resume", "newsletter", "api")} <= set(actions())


def test_pausing_an_unsubscribed_list_does_not_resubscribe_it(newsletter):
    subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW)
    change = subscribers.pause("s1", "newsletter", NOW + timedelta(days=30), AuditContext("page"), NOW)
    assert not change.applied and change.status == "unsubscribed"
    assert subscribers.get_subscription("s1", "newsletter").status == "unsubscribed"


def test_the_survey_is_stored_once_with_its_event(newsletter):
    change = subscribers.unsubscribe("s1", "newsletter", ONE_CLICK, NOW)
    assert subscribers.record_survey("s1", "newsletter", change.event_key, "too_many_emails", "weekly is a lot", NOW)
    assert not subscribers.record_survey("s1", "newsletter", change.event_key, "other", "changed my mind", NOW)
    event = subscribers.get_event("s1", change.event_key)
    assert (event.reason, event.comment) == ("too_many_emails", "weekly is a lot")


def test_a_survey_cannot_be_attached_to_another_lists_event_or_a_subscribe(newsletter):
    change = subscribers.unsubscribe("s1", "promo", ONE_CLICK, NOW)
    assert not subscribers.record_survey("s1", "newsletter", change.event_key, "other", None, NOW)
    subscribe_event = next(e for e in subscribers.consent_events("s1") if e.action == "subscribe")
    assert not subscribers.record_survey("s1", "newsletter", subscribe_event.sk, "other", None, NOW)
    assert not subscribers.record_survey("s1", "newsletter", "EVENT#nope", "other", None, NOW)


def test_permission_records_read_a_batch(newsletter):
    subscribers.unsubscribe("s1", "promo", ONE_CLICK, NOW)
    found, profiles = subscribers.permission_records("promo", ["s1", "s9"])
    assert found["s1"].status == "unsubscribed" and "s9" not in found
    assert profiles["s1"].email == "a@example.com"
    assert consent.may_send(found["s1"].status, None, False, set(), "sms", NOW).reason == "unsubscribed"


def test_stop_everything_twice_records_one_event_and_names_it_again(newsletter):
    first = subscribers.unsubscribe_all("s1", AuditContext("page"), NOW)
    again = subscribers.unsubscribe_all("s1", AuditContext("page"), NOW + timedelta(seconds=1))
    assert first.applied and not again.applied and again.event_key == first.event_key
    assert [a for a, _, _ in actions()].count("unsubscribe_all") == 1
    undone = subscribers.undo("s1", "newsletter", again.event_key, AuditContext("page"), NOW, sunset_due=NOW)
    assert undone.applied
    assert {s.status for s in subscribers.subscriptions_of("s1")} == {"active"}
    assert not subscribers.get_profile("s1").opted_out_all


def test_undoing_stop_everything_when_no_list_can_come_back_is_refused(newsletter):
    stopped = subscribers.unsubscribe_all("s1", AuditContext("page"), NOW)
    join("s1", "a@example.com", "newsletter", API, NOW, resubscribe=True)  # a later choice on each list
    join("s1", "a@example.com", "promo", API, NOW, resubscribe=True)
    subscribers.unsubscribe("s1", "promo", API, NOW)
    assert not subscribers.undo("s1", "newsletter", stopped.event_key, API, NOW, sunset_due=NOW).applied
    assert [a for a, _, _ in actions()].count("resubscribe") == 2  # the two explicit ones, no false undo


def test_stop_everything_covers_more_lists_than_one_transaction_holds(aws):
    many = [f"list{i:03d}" for i in range(2 * subscribers.LISTS_PER_TRANSACTION + 7)]
    for list_id in many:
        lists.create_list(list_id, list_id)
        join("s1", "a@example.com", list_id, API, NOW)
    change = subscribers.unsubscribe_all("s1", AuditContext("page"), NOW)
    assert change.applied
    assert {s.status for s in subscribers.subscriptions_of("s1")} == {"unsubscribed"}
    assert all(s.sunset_due is None for s in subscribers.subscriptions_of("s1"))
    assert all(subscribers.members_of(list_id) == 0 for list_id in many)
    [event] = [e for e in subscribers.consent_events("s1") if e.action == "unsubscribe_all"]
    assert sorted(event.lists) == many and subscribers.get_profile("s1").opted_out_all
    undone = subscribers.undo("s1", many[0], change.event_key, AuditContext("page"), NOW, sunset_due=NOW)
    assert undone.applied and {s.status for s in subscribers.subscriptions_of("s1")} == {"active"}
    assert all(subscribers.members_of(list_id) == 1 for list_id in many)


def test_the_same_pause_twice_is_one_pause_and_a_longer_one_extends_it(newsletter):
    until = NOW + timedelta(days=30)
    first = subscribers.pause("s1", "newsletter", until, AuditContext("page"), NOW)
    again = subscribers.pause("s1", "newsletter", until, AuditContext("page"), NOW + timedelta(seconds=2))
    assert first.applied and not again.applied and again.event_key == first.event_key
    longer = subscribers.pause("s1", "newsletter", NOW + timedelta(days=90), AuditContext("page"), NOW)
    assert longer.applied
    assert [a for a, _, _ in actions()].count("pause") == 2


# The planners' plans committed on moto: a change concurrent with ours, and the doors whose
# planners are committed by the same code (SMS keywords, the sunset job's last step).


def test_a_blind_one_click_that_loses_a_race_is_planned_again_from_the_item_as_it_was(newsletter):
    from chalicelib.domain.consent import UNKNOWN, plan_unsubscribe

    blind = plan_unsubscribe(UNKNOWN, "newsletter", ONE_CLICK, NOW)
    first = subscribers.unsubscribe("s1", "newsletter", AuditContext("page"), NOW)  # lands first
    stale = subscribers.commit_plan("s1", blind, NOW)
    assert stale is not None and stale.first
    assert (stale.subscriptions["newsletter"].status, stale.subscriptions["newsletter"].last_event) == (
        "unsubscribed",
        first.event_key,
    )
    assert subscribers.members_of("newsletter") == 0 and actions().count(("unsubscribe", "newsletter", "page")) == 1
    assert ("unsubscribe", "newsletter", "one-click") not in actions()


def test_a_complaint_after_leaving_every_list_records_the_opt_out_of_every_list(newsletter):
    from chalicelib.domain.consent import plan_complaint

    for list_id in ("newsletter", "promo"):
        subscribers.unsubscribe("s1", list_id, ONE_CLICK, NOW)
    complained = subscribers.unsubscribe_all("s1", AuditContext("complaint"), NOW, planner=plan_complaint)
    again = subscribers.unsubscribe_all("s1", AuditContext("complaint"), NOW, planner=plan_complaint)
    assert complained.applied and not again.applied and again.event_key == complained.event_key
    profile = subscribers.get_profile("s1")
    assert profile.opted_out_all and profile.opted_out_event == complained.event_key
    assert subscribers.members_of("newsletter") == 0  # left once, counted once


def test_sms_keywords_apply_in_the_order_they_were_sent(aws):
    stop, start = NOW, NOW + timedelta(minutes=5)
    sms = AuditContext("sms-keyword")
    assert subscribers.sms_opt_out("pnumber", stop, sms, NOW).applied
    assert not subscribers.sms_opt_out("pnumber", stop + timedelta(minutes=1), sms, NOW).applied
    assert not subscribers.sms_resume("pnumber", stop + timedelta(seconds=30), sms, NOW).applied
    assert subscribers.sms_opted_out(["pnumber"]) == {"pnumber"}  # a START older than the repeated STOP
    assert subscribers.sms_resume("pnumber", start, sms, NOW).applied
    assert subscribers.sms_opted_out(["pnumber"]) == set()
    assert [a for a, _, _ in actions("pnumber")] == ["suppress_sms", "resume_sms"]


def test_the_sunset_job_leaves_only_what_it_read(newsletter):
    subscription = subscribers.get_subscription("s1", "newsletter")
    subscription.sunset_state, subscription.reminder_sent_at = "pending", NOW - timedelta(days=20)
    subscription.save()
    read = subscribers.get_subscription("s1", "newsletter")
    engaged = subscribers.get_subscription("s1", "promo")
    engaged.sunset_state, engaged.reminder_sent_at = "pending", NOW - timedelta(days=20)
    engaged.save()
    read_promo = subscribers.get_subscription("s1", "promo")
    subscribers.record_engagement("s1", "promo", NOW, NOW + timedelta(days=90))  # moves the clock
    assert subscribers.sunset_unsubscribe(read, NOW) and not subscribers.sunset_unsubscribe(read_promo, NOW)
    assert subscribers.get_subscription("s1", "newsletter").status == "unsubscribed"
    assert subscribers.get_subscription("s1", "promo").status == "active"
    assert ("unsubscribe", "newsletter", "sunset") in actions() and subscribers.members_of("newsletter") == 0
