"""The consent planners, without AWS: each change planned from the state it is given, "already
done" decided here only, re-planning after a concurrent change, undo never overriding a later
choice, and stop-everything over more lists than one transaction holds."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain import consent
from chalicelib.domain.consent import (
    ACTIVE,
    PAUSED,
    RECEIVING,
    UNKNOWN,
    UNSUBSCRIBED,
    Action,
    AuditContext,
    EventState,
    Outcome,
    ProfileState,
    Source,
    SubscriptionState,
    Sunset,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PAGE = AuditContext(Source.PAGE)
ONE_CLICK = AuditContext(Source.ONE_CLICK, ip_hash="h", key_id="k1", campaign_id="c1")


def state(list_id="news", status=ACTIVE, last_event="EVENT#a", **more) -> SubscriptionState:
    return SubscriptionState(list_id, status, last_event, **more)


def commit(plan, current: dict[str, SubscriptionState]):
    """What storage does with a plan, in memory: every precondition holds, or nothing is written
    and the items are handed back as they were."""
    stale = {w.list_id: current[w.list_id] for w in plan.writes if not w.expect.holds(current[w.list_id])}
    if stale:
        return stale
    for w in plan.writes:
        before = current[w.list_id]
        current[w.list_id] = SubscriptionState(
            w.list_id,
            w.status or before.status,
            plan.event_key,
            w.paused_until if w.status == PAUSED else None,
            before.frequency if w.frequency is consent.ANY else w.frequency,
        )
    return None


# The vocabulary: the values are what is stored and on the wire.


def test_the_vocabulary_keeps_its_stored_strings():
    assert [str(s) for s in consent.Status] == ["active", "unsubscribed", "paused"]
    assert Source.ONE_CLICK == "one-click" and Source.SES_SUBSCRIPTION == "ses-subscription"
    assert Source.SMS_KEYWORD == "sms-keyword" and "complaint" in consent.SOURCES
    assert consent.UNDO_ACTION["unsubscribe_all"] == "resubscribe" and Action.SUPPRESS_EMAIL == "suppress_email"
    assert Outcome.PREVIOUSLY_UNSUBSCRIBED == "previously_unsubscribed"


# One list: one-click, the page's "this list", mailto.


def test_a_blind_unsubscribe_expects_a_subscription_still_receiving_and_moves_every_counter():
    plan = consent.plan_unsubscribe(UNKNOWN, "news", ONE_CLICK, NOW)
    [write] = plan.writes
    assert plan.applied and plan.outcome == Outcome.UNSUBSCRIBED and plan.list_must_exist == "news"
    assert write.expect.statuses == RECEIVING and write.status == UNSUBSCRIBED and write.at == NOW
    assert (write.members, write.sunset) == (-1, Sunset.LEAVE)
    assert (plan.count_scope, plan.counts) == ("news", ("unsubscribe#one-click",))
    assert plan.event.action == Action.UNSUBSCRIBE and plan.event.context == ONE_CLICK
    assert write.expect.holds(state(status=PAUSED)) and not write.expect.holds(state(status=UNSUBSCRIBED))


def test_an_unsubscribe_already_done_records_nothing_and_names_the_event_that_did_it():
    plan = consent.plan_unsubscribe(state(status=UNSUBSCRIBED, last_event="EVENT#first"), "news", PAGE, NOW)
    assert not plan.applied and plan.writes == () and plan.counts == ()
    assert (plan.outcome, plan.status, plan.event_key) == (Outcome.ALREADY_UNSUBSCRIBED, UNSUBSCRIBED, "EVENT#first")


def test_an_unsubscribe_for_someone_never_seen_is_kept_without_moving_the_member_count():
    plan = consent.plan_unsubscribe(SubscriptionState("news"), "news", ONE_CLICK, NOW)
    [write] = plan.writes
    assert plan.applied and write.expect.statuses == {None} and write.members == 0
    assert plan.counts == ("unsubscribe#one-click",)


def test_a_concurrent_change_is_planned_again_from_the_item_as_it_was():
    current = {"news": state()}
    blind = consent.plan_unsubscribe(UNKNOWN, "news", ONE_CLICK, NOW)
    # Another click lands between our plan and our write.
    assert commit(consent.plan_unsubscribe(UNKNOWN, "news", PAGE, NOW), current) is None
    stale = commit(blind, current)
    assert stale is not None and stale["news"].status == UNSUBSCRIBED
    again = consent.plan_unsubscribe(stale["news"], "news", ONE_CLICK, NOW)
    assert again.outcome == Outcome.ALREADY_UNSUBSCRIBED and again.event_key == current["news"].last_event


# Subscribing.


def test_an_import_never_brings_back_someone_who_left_but_consent_given_again_does():
    left = state(status=UNSUBSCRIBED)
    assert consent.plan_subscribe(left, "news", "a@x.test", AuditContext(Source.IMPORT), NOW, NOW).outcome == (
        Outcome.PREVIOUSLY_UNSUBSCRIBED
    )
    back = consent.plan_subscribe(left, "news", "a@x.test", AuditContext(Source.API), NOW, NOW, resubscribe=True)
    [write] = back.writes
    assert back.outcome == Outcome.RESUBSCRIBED and back.profile.opted_out_all is False
    assert write.expect.statuses == {UNSUBSCRIBED} and write.members == 1 and write.sunset == Sunset.RESTART


def test_a_blind_subscribe_expects_no_subscription_and_replans_to_already_subscribed():
    plan = consent.plan_subscribe(UNKNOWN, "news", "a@x.test", AuditContext(Source.API), NOW, NOW)
    assert plan.writes[0].expect.statuses == {None} and plan.profile.opted_out_all is None
    stale = commit(plan, {"news": state(status=PAUSED)})
    again = consent.plan_subscribe(stale["news"], "news", "a@x.test", AuditContext(Source.API), NOW, NOW)
    assert (again.applied, again.outcome, again.status) == (False, Outcome.ALREADY_SUBSCRIBED, PAUSED)


# Pausing.


def test_the_same_pause_twice_is_one_pause_and_a_longer_one_extends_it():
    until = NOW + timedelta(days=30)
    paused = state(status=PAUSED, paused_until=until)
    assert consent.plan_pause(paused, "news", until + timedelta(minutes=5), PAGE, NOW).outcome == (
        Outcome.ALREADY_PAUSED
    )
    longer = consent.plan_pause(paused, "news", until + timedelta(days=60), PAGE, NOW)
    assert longer.applied and longer.event.until == until + timedelta(days=60)
    assert longer.writes[0].expect.pause_ends_before == until + timedelta(days=60) - consent.PAUSE_REPEAT_WINDOW


def test_pausing_never_brings_back_someone_who_left():
    plan = consent.plan_pause(state(status=UNSUBSCRIBED), "news", NOW + timedelta(days=30), PAGE, NOW)
    assert not plan.applied and (plan.outcome, plan.status) == (Outcome.NOT_SUBSCRIBED, UNSUBSCRIBED)
    blind = consent.plan_pause(UNKNOWN, "news", NOW + timedelta(days=30), PAGE, NOW)
    assert not blind.writes[0].expect.holds(state(status=UNSUBSCRIBED))


# Every list: the page's "stop everything", complaints, SES unsubscribe-all, erasure.


def test_stop_everything_over_more_lists_than_one_transaction_holds():
    many = [state(f"list{i:03d}") for i in range(consent.LISTS_PER_TRANSACTION + 5)]
    plan = consent.plan_unsubscribe_all(None, many, PAGE, NOW)
    assert plan.applied and len(plan.writes) == len(many)
    assert [len(part) for part in consent.chunks(plan.writes)] == [consent.LISTS_PER_TRANSACTION, 5]
    assert plan.profile.opted_out_all is True and plan.profile.expect_opted_out is False
    assert plan.event.lists == tuple(s.list_id for s in many) and plan.count_scope == consent.EVERY_LIST
    assert plan.counts == ("unsubscribe_all#page",) and plan.writes[0].counts == ("unsubscribe#page@list000",)
    # The first part was written; one list changed meanwhile: the rest is finished under the same event.
    after = [state(s.list_id, UNSUBSCRIBED, plan.event_key) for s in many[:45]] + many[45:]
    rest = consent.plan_unsubscribe_all(ProfileState(True, plan.event_key), after, PAGE, NOW, continuing=plan.event_key)
    assert not rest.applied and rest.event_key == plan.event_key and len(rest.writes) == 5 and rest.profile is None


def test_stop_everything_is_already_done_only_with_the_opt_out_recorded():
    left = [state("news", UNSUBSCRIBED), state("promo", UNSUBSCRIBED)]
    done = consent.plan_unsubscribe_all(ProfileState(True, "EVENT#all"), left, PAGE, NOW)
    assert (done.applied, done.outcome, done.event_key) == (False, Outcome.ALREADY_UNSUBSCRIBED, "EVENT#all")
    not_yet = consent.plan_unsubscribe_all(ProfileState(False), left, PAGE, NOW)
    assert not_yet.applied and not_yet.writes == () and not_yet.profile.opted_out_all is True


def test_a_complaint_after_leaving_every_list_still_records_never_mail_again():
    left = [state("news", UNSUBSCRIBED), state("promo", UNSUBSCRIBED)]
    plan = consent.plan_complaint(None, left, NOW)
    assert plan.applied and plan.outcome == Outcome.UNSUBSCRIBED
    assert plan.profile.opted_out_all is True and plan.profile.opted_out_event == plan.event_key
    assert (plan.event.action, plan.event.context.source, plan.event.lists) == ("unsubscribe_all", "complaint", ())
    assert plan.profile.opted_out_source == "complaint"
    # Delivered again, over the profile as the first one left it.
    written = ProfileState(True, plan.profile.opted_out_event, opted_out_source=plan.profile.opted_out_source)
    again = consent.plan_complaint(written, left, NOW)
    assert not again.applied and again.event_key == plan.event_key


@pytest.mark.parametrize("planner", [consent.plan_complaint, consent.plan_ses_unsubscribe_all, consent.plan_erase])
@pytest.mark.parametrize("held_by", ["page", "one-click", None])
def test_a_final_opt_out_after_the_persons_own_stop_everything_is_recorded_over_it(planner, held_by):
    """F9: the person stopped everything (undoable from their page; None: stored before the
    profile kept the door); a complaint, SES's unsubscribe-all or an erasure after it is the opt-out
    in force, so the undo of the earlier one is refused."""
    left = [state("news", UNSUBSCRIBED, "EVENT#all"), state("promo", UNSUBSCRIBED, "EVENT#all")]
    own = ProfileState(True, "EVENT#all", opted_out_source=held_by)
    plan = planner(own, left, NOW)
    assert plan.applied and plan.writes == () and plan.event.lists == ()
    source = plan.event.context.source
    assert plan.counts == (f"unsubscribe_all#{source}",)
    assert (plan.profile.expect_opted_out, plan.profile.expect_opted_out_event) == (True, "EVENT#all")
    assert (plan.profile.opted_out_event, plan.profile.opted_out_source) == (plan.event_key, source)
    after = ProfileState(True, plan.event_key, opted_out_source=source)
    everything = unsubscribed_by("EVENT#all", Action.UNSUBSCRIBE_ALL, "*", ["news", "promo"])
    assert consent.plan_undo(everything, "news", left, after, PAGE, NOW, NOW).outcome == Outcome.NOTHING_TO_UNDO
    # The same door again (a retried message): recorded once.
    assert not planner(after, left, NOW).applied


def test_an_opt_out_no_more_final_than_the_one_in_force_records_nothing_and_never_replaces_it():
    left = [state("news", UNSUBSCRIBED, "EVENT#c")]
    complained = ProfileState(True, "EVENT#c", opted_out_source="complaint")
    for later in (
        consent.plan_ses_unsubscribe_all(complained, left, NOW),
        consent.plan_complaint(complained, left, NOW),
    ):
        assert (later.applied, later.event_key) == (False, "EVENT#c")
    page = consent.plan_unsubscribe_all(complained, left, PAGE, NOW)
    assert (page.applied, page.outcome, page.event_key) == (False, Outcome.ALREADY_UNSUBSCRIBED, "EVENT#c")
    # A list still receiving is left, but the complaint stays the opt-out in force.
    receiving = consent.plan_unsubscribe_all(complained, [*left, state("promo")], PAGE, NOW)
    assert [w.list_id for w in receiving.writes] == ["promo"]
    assert receiving.profile.opted_out_event is None and receiving.profile.opted_out_source is None
    assert receiving.profile.expect_opted_out_event == "EVENT#c"
    ses = ProfileState(True, "EVENT#s", opted_out_source="ses-subscription")
    assert consent.plan_complaint(ses, left, NOW).applied  # a complaint is still recorded over it
    erased = ProfileState(True)  # erasure keeps neither the event nor the trail
    assert not consent.plan_complaint(erased, left, NOW).applied


@pytest.mark.parametrize("ctx", [ONE_CLICK, PAGE, AuditContext(Source.MAILTO)])
def test_leaving_a_list_that_only_an_undoable_stop_everything_left_records_the_lists_own_choice(ctx):
    """F9: "stop everything" from the page, then a one-click (or "this list", or a mailto) on the
    newsletter: the undo of the stop-everything must leave the newsletter unsubscribed."""
    own = ProfileState(True, "EVENT#all", opted_out_source="page")
    current = {"news": state("news", UNSUBSCRIBED, "EVENT#all"), "promo": state("promo", UNSUBSCRIBED, "EVENT#all")}
    plan = consent.plan_unsubscribe(current["news"], "news", ctx, NOW, own)
    [write] = plan.writes
    assert plan.applied and plan.outcome == Outcome.UNSUBSCRIBED and plan.event.action == Action.UNSUBSCRIBE
    assert (plan.event.list_id, plan.event.context, plan.list_must_exist) == ("news", ctx, "news")
    assert write.expect.statuses == {UNSUBSCRIBED} and write.expect.last_event == "EVENT#all"
    assert (write.status, write.members, write.sunset, plan.counts) == (None, 0, Sunset.KEEP, ())  # left once
    assert commit(plan, current) is None and current["news"].last_event == plan.event_key
    # A second click: the list's own choice is recorded already.
    again = consent.plan_unsubscribe(current["news"], "news", ctx, NOW, own)
    assert (again.applied, again.event_key) == (False, plan.event_key)
    everything = unsubscribed_by("EVENT#all", Action.UNSUBSCRIBE_ALL, "*", ["news", "promo"])
    undo = consent.plan_undo(everything, "promo", list(current.values()), own, PAGE, NOW, NOW)
    assert [w.list_id for w in undo.writes] == ["promo"] and undo.profile.opted_out_all is False


def test_a_list_left_by_a_final_opt_out_or_by_its_own_choice_is_already_left():
    complained = ProfileState(True, "EVENT#c", opted_out_source="complaint")
    by_complaint = consent.plan_unsubscribe(
        state(status=UNSUBSCRIBED, last_event="EVENT#c"), "news", ONE_CLICK, NOW, complained
    )
    assert (by_complaint.applied, by_complaint.event_key) == (False, "EVENT#c")
    own = ProfileState(True, "EVENT#all", opted_out_source="page")
    by_itself = consent.plan_unsubscribe(state(status=UNSUBSCRIBED, last_event="EVENT#u"), "news", ONE_CLICK, NOW, own)
    assert (by_itself.applied, by_itself.event_key) == (False, "EVENT#u")
    undone = ProfileState(False, "EVENT#all", undone=frozenset({"EVENT#all"}), opted_out_source="page")
    assert not consent.plan_unsubscribe(
        state(status=UNSUBSCRIBED, last_event="EVENT#all"), "news", PAGE, NOW, undone
    ).applied


def test_a_complaint_from_a_member_leaves_every_list_it_still_receives():
    plan = consent.plan_complaint(None, [state("news"), state("promo", UNSUBSCRIBED), state("deals", PAUSED)], NOW)
    assert [w.list_id for w in plan.writes] == ["news", "deals"] and plan.counts == ("unsubscribe_all#complaint",)
    assert [w.expect.statuses for w in plan.writes] == [{ACTIVE}, {PAUSED}]


def test_erasure_and_ses_unsubscribe_all_are_stop_everything_with_their_own_source():
    assert consent.plan_erase(None, [state()], NOW).event.context.source == "erasure"
    assert consent.plan_ses_unsubscribe_all(None, [state()], NOW).counts == ("unsubscribe_all#ses-subscription",)


# Channels.


def test_a_hard_bounce_suppresses_email_once():
    blind = consent.plan_suppress_channel(UNKNOWN, "email", AuditContext(Source.BOUNCE), NOW)
    assert (
        blind.applied and blind.event.action == Action.SUPPRESS_EMAIL and blind.profile.expect_not_suppressed == "email"
    )
    suppressed = ProfileState(suppressed_channels=frozenset({"email"}))
    assert consent.plan_suppress_channel(suppressed, "email", AuditContext(Source.BOUNCE), NOW).outcome == (
        Outcome.ALREADY_SUPPRESSED
    )


# Less often.


def test_a_frequency_changes_only_a_subscription_still_receiving():
    assert consent.plan_frequency(None, "news", "weekly", PAGE, NOW).outcome == Outcome.NOT_SUBSCRIBED
    assert consent.plan_frequency(state(status=UNSUBSCRIBED), "news", "weekly", PAGE, NOW).status == UNSUBSCRIBED
    held = consent.plan_frequency(state(frequency="weekly"), "news", "weekly", PAGE, NOW)
    assert (held.applied, held.outcome, held.event_key) == (False, Outcome.FREQUENCY_HELD, "EVENT#a")
    chosen = consent.plan_frequency(state(frequency="daily"), "news", "weekly", PAGE, NOW)
    assert chosen.event.frequency_before == "daily" and chosen.writes[0].expect.frequency == "daily"
    assert chosen.counts == ("frequency#weekly",)


def test_undoing_a_frequency_is_conditional_on_it_being_the_latest_change():
    original = EventState("EVENT#f", Action.FREQUENCY, "news", NOW, frequency="weekly", frequency_before=None)
    plan = consent.plan_undo_frequency(original, "news", PAGE, NOW)
    expect = plan.writes[0].expect
    assert plan.event.frequency is None and plan.counts == ("frequency_undone#weekly",)
    assert expect.holds(state(last_event="EVENT#f", frequency="weekly"))
    assert not expect.holds(state(last_event="EVENT#later", frequency="weekly"))
    assert consent.plan_undo_frequency(original, "promo", PAGE, NOW).outcome == Outcome.NOTHING_TO_UNDO


# Undo.


def unsubscribed_by(key: str, action=Action.UNSUBSCRIBE, list_id="news", lists=(), source="page"):
    return EventState(key, action, list_id, NOW, tuple(lists), source=source)


@pytest.mark.parametrize("source", ["complaint", "bounce", "erasure", "sunset", "api", "import", None])
def test_a_person_undoes_only_their_own_choice_never_a_complaint_or_the_sunset_job(source):
    everything = unsubscribed_by("EVENT#c", Action.UNSUBSCRIBE_ALL, "*", ["news"], source=source)
    one = unsubscribed_by("EVENT#s", Action.UNSUBSCRIBE, source=source)
    assert (
        consent.plan_undo(
            everything, "news", [state("news", UNSUBSCRIBED, "EVENT#c")], ProfileState(True, "EVENT#c"), PAGE, NOW, NOW
        ).outcome
        == Outcome.NOTHING_TO_UNDO
    )
    assert (
        consent.plan_undo(one, "news", [state("news", UNSUBSCRIBED, "EVENT#s")], None, PAGE, NOW, NOW).outcome
        == Outcome.NOTHING_TO_UNDO
    )
    assert not consent.undoable(Action.UNSUBSCRIBE_ALL, source)
    assert consent.undoable(Action.UNSUBSCRIBE_ALL, "one-click") and consent.undoable(Action.PAUSE, "page")


def test_undo_restores_a_list_whose_latest_change_is_still_the_one_undone():
    plan = consent.plan_undo(
        unsubscribed_by("EVENT#u"), "news", [state(status=UNSUBSCRIBED, last_event="EVENT#u")], None, PAGE, NOW, NOW
    )
    [write] = plan.writes
    assert plan.applied and plan.event.action == Action.RESUBSCRIBE and write.status == ACTIVE
    assert write.expect.last_event == "EVENT#u" and write.members == 1 and write.sunset == Sunset.RESTART
    assert plan.counts == ("resubscribe#page",) and plan.profile is None


def test_undo_never_overrides_a_later_choice():
    later = [state(status=UNSUBSCRIBED, last_event="EVENT#later")]
    assert consent.plan_undo(unsubscribed_by("EVENT#u"), "news", later, None, PAGE, NOW, NOW).outcome == (
        Outcome.NOTHING_TO_UNDO
    )
    # A later choice lands between our read and our write: the precondition refuses the write.
    current = {"news": state(status=UNSUBSCRIBED, last_event="EVENT#u")}
    plan = consent.plan_undo(unsubscribed_by("EVENT#u"), "news", [current["news"]], None, PAGE, NOW, NOW)
    current["news"] = state(status=UNSUBSCRIBED, last_event="EVENT#later")
    assert commit(plan, current) is not None and current["news"].last_event == "EVENT#later"


def test_undo_of_stop_everything_restores_only_the_lists_it_still_governs_and_lifts_the_opt_out_once():
    original = unsubscribed_by("EVENT#all", Action.UNSUBSCRIBE_ALL, "*", ["news", "promo", "deals"])
    subscriptions = [
        state("news", UNSUBSCRIBED, "EVENT#all"),
        state("promo", ACTIVE, "EVENT#rejoined"),
        state("deals", UNSUBSCRIBED, "EVENT#all"),
    ]
    plan = consent.plan_undo(original, "news", subscriptions, ProfileState(True, "EVENT#all"), PAGE, NOW, NOW)
    assert [w.list_id for w in plan.writes] == ["deals", "news"]
    assert plan.profile.opted_out_all is False and plan.profile.expect_not_undone == "EVENT#all"
    assert plan.counts == ("resubscribe_all#page",) and plan.writes[0].counts == ("resubscribe#page@deals",)
    undone = ProfileState(False, undone=frozenset({"EVENT#all"}))
    covering_none = unsubscribed_by("EVENT#all", Action.UNSUBSCRIBE_ALL, "*", [])
    assert consent.plan_undo(covering_none, "news", [], ProfileState(True), PAGE, NOW, NOW).applied
    assert not consent.plan_undo(covering_none, "news", [], undone, PAGE, NOW, NOW).applied


def test_undo_of_stop_everything_none_of_whose_lists_can_come_back_is_refused():
    original = unsubscribed_by("EVENT#all", Action.UNSUBSCRIBE_ALL, "*", ["news"])
    later = [state("news", UNSUBSCRIBED, "EVENT#later")]
    assert consent.plan_undo(original, "news", later, ProfileState(True), PAGE, NOW, NOW).outcome == (
        Outcome.NOTHING_TO_UNDO
    )


def test_undo_of_a_pause_resumes_without_rejoining_and_is_scoped_to_the_links_list():
    pause = unsubscribed_by("EVENT#p", Action.PAUSE)
    paused = [state(status=PAUSED, last_event="EVENT#p")]
    plan = consent.plan_undo(pause, "news", paused, None, PAGE, NOW, NOW)
    assert plan.event.action == Action.RESUME and plan.writes[0].members == 0
    assert plan.writes[0].sunset == Sunset.KEEP and plan.counts == ("resume#page",)
    assert consent.plan_undo(pause, "promo", paused, None, PAGE, NOW, NOW).outcome == Outcome.NOTHING_TO_UNDO


@pytest.mark.parametrize(
    ("latest_action", "later", "expected"),
    [(Action.RESUBSCRIBE, True, "EVENT#r"), (Action.UNSUBSCRIBE, True, None), (Action.RESUBSCRIBE, False, None)],
)
def test_a_repeated_undo_shows_what_the_first_one_did(latest_action, later, expected):
    original = EventState("EVENT#u", Action.UNSUBSCRIBE, "news", NOW)
    latest = EventState("EVENT#r", latest_action, "news", NOW + timedelta(seconds=1 if later else -1))
    assert consent.undone_by(original, latest) == expected


# "Keep me subscribed".


def test_keep_brings_back_only_what_the_sunset_job_ended():
    assert consent.plan_keep(state()).engage
    ended = state(status=UNSUBSCRIBED, last_source=Source.SUNSET)
    asked = [state("promo", UNSUBSCRIBED), state("deals", ACTIVE), state("news", UNSUBSCRIBED)]
    assert consent.plan_keep(ended, None, asked).resubscribe == ("news", "promo")
    own = consent.plan_keep(state(status=UNSUBSCRIBED, last_source=Source.ONE_CLICK))
    assert own.resubscribe == () and not own.engage and own.outcome == Outcome.ALREADY_UNSUBSCRIBED
    stopped_everything = consent.plan_keep(ended, ProfileState(opted_out_all=True), asked)
    assert stopped_everything.resubscribe == () and stopped_everything.outcome == Outcome.ALREADY_UNSUBSCRIBED
    assert consent.plan_keep(None).outcome == Outcome.NOT_SUBSCRIBED


# SMS keywords, out of order.


def test_sms_keywords_apply_only_when_newer_than_the_last_applied():
    sms, at = AuditContext(Source.SMS_KEYWORD), NOW
    stop = consent.plan_sms_keyword(UNKNOWN, True, at, sms, NOW)
    assert stop.event.action == Action.SUPPRESS_SMS and stop.event.at == at
    assert (stop.profile.expect_keyword_before, stop.profile.suppress, stop.profile.keyword_at) == (at, "sms", at)
    newer = consent.NumberState(opted_out=True, keyword_at=at + timedelta(minutes=1))
    assert consent.plan_sms_keyword(newer, False, at, sms, NOW).outcome == Outcome.KEYWORD_SUPERSEDED
    repeat = consent.plan_sms_keyword(consent.NumberState(True, at), True, at + timedelta(minutes=2), sms, NOW)
    assert not repeat.applied and repeat.outcome == Outcome.KEYWORD_REPEATED
    assert repeat.profile.keyword_at == at + timedelta(minutes=2) and repeat.profile.suppress is None
    start = consent.plan_sms_keyword(consent.NumberState(True, at), False, at + timedelta(minutes=3), sms, NOW)
    assert start.event.action == Action.RESUME_SMS and start.profile.unsuppress == "sms"
    assert start.profile.expect_suppressed == "sms"


# The sunset job's last step.


def test_the_sunset_job_leaves_only_a_reminded_pending_subscription_as_it_read_it():
    read = state(sunset_due="2026-11-23#03", sunset_state=consent.PENDING, reminded=True)
    plan = consent.plan_sunset_unsubscribe(read, NOW)
    [write] = plan.writes
    assert plan.event.context.source == Source.SUNSET and plan.counts == ("unsubscribe#sunset",)
    assert write.expect.holds(read) and write.members == -1 and write.sunset == Sunset.LEAVE_KEEPING_REMINDER
    assert not write.expect.holds(replace(read, sunset_due="2027-02-21#03"))  # engaged since: the clock moved
    not_reminded = consent.plan_sunset_unsubscribe(replace(read, reminded=False), NOW)
    assert not not_reminded.writes[0].expect.holds(replace(read, reminded=False))  # storage refuses it
    assert not consent.plan_sunset_unsubscribe(replace(read, status=PAUSED), NOW).applied
