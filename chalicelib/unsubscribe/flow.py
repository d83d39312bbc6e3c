"""The recipient's side, as services: the one-click unsubscribe mailbox providers POST, and each
choice a person makes on the pages of a link. They take typed values (the raw link, the choice,
who asked) and return typed results or raise `core.errors`; the routes answer them. Each change
is planned by `chalicelib.domain.consent` and committed by storage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib.core.errors import Conflict, Invalid, NotFound, Unavailable
from chalicelib.core.ids import hash_ip
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.domain import consent
from chalicelib.domain.consent import AuditContext, Source, Status
from chalicelib.storage import lists, subscribers
from chalicelib.unsubscribe import deferred
from chalicelib.unsubscribe.tokens import SUNSET_CAMPAIGN, UnsubscribeToken, link_and_list, verify_link


@dataclass(frozen=True)
class Caller:
    """Who asked, as the request says it: for the consent trail (the IP is hashed here)."""

    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class OneClick:
    status: str  # "unsubscribed", or "accepted" when queued to be stored shortly
    applied: bool = False


@dataclass(frozen=True)
class Next:
    """Where the person goes next: a page of their link ("" the choice page, "/survey",
    "/done") about `event`."""

    page: str = ""
    event: str | None = None
    thanks: bool = False


@dataclass(frozen=True)
class Deferred:
    """The choice could not be stored now; it is queued and will be."""


@dataclass(frozen=True)
class UndoUnavailable:
    """Nothing left to undo: a later choice holds, or the change cannot come back."""

    mailing_list: lists.MailingList | None


def _now() -> datetime:
    return datetime.now(UTC)


def _context(caller: Caller, token: UnsubscribeToken, source: Source) -> AuditContext:
    return AuditContext(
        source=source,
        ip_hash=hash_ip(get_settings().ip_hash_key, caller.ip),
        user_agent=caller.user_agent,
        key_id=token.key_id,
        campaign_id=token.campaign_id,
    )


def one_click(raw_token: str, caller: Caller) -> OneClick:
    """A mailbox provider's RFC 8058 POST: one round trip (see `consent.plan_unsubscribe`);
    queued when DynamoDB cannot take it within the clients' budget."""
    token = verify_link(raw_token)
    ctx, now = _context(caller, token, Source.ONE_CLICK), _now()
    try:
        # The re-permission email's one-click leaves every list that email named.
        leave = subscribers.unsubscribe_reminded if token.campaign_id == SUNSET_CAMPAIGN else subscribers.unsubscribe
        change = leave(token.subscriber_id, token.list_id, ctx, now)
    except Unavailable:
        logger.exception("one-click unsubscribe could not be stored; queueing it")
        if deferred.defer(token.subscriber_id, token.list_id, ctx, now):
            return OneClick("accepted")
        raise
    if change.applied:
        count("Unsubscribes", source=Source.ONE_CLICK)
    logger.info("one-click unsubscribe", extra={"applied": change.applied})
    return OneClick(Status.UNSUBSCRIBED, change.applied)


def choose(raw_token: str, choice: str, caller: Caller) -> Next | Deferred:
    """A choice posted from the page: this list, everything, a pause, or a frequency."""
    token = verify_link(raw_token)
    frequency = consent.frequency_of(choice)
    if frequency is not None:
        return choose_frequency(token, frequency, caller)
    if choice not in consent.CHOICES:
        raise Invalid("bad_choice", "choose one of the options")
    ctx, now = _context(caller, token, Source.PAGE), _now()
    until = consent.pause_end(choice, now) if choice in consent.PAUSE_DAYS else None
    try:
        if choice == "list":
            change = subscribers.unsubscribe(token.subscriber_id, token.list_id, ctx, now)
        elif choice == "all":
            lists.existing_list(token.list_id)  # a link to a list that is gone stops nothing
            change = subscribers.unsubscribe_all(token.subscriber_id, ctx, now)
        else:
            change = subscribers.pause(token.subscriber_id, token.list_id, until, ctx, now)
    except Unavailable:
        logger.exception("unsubscribe choice could not be stored")
        if deferred.defer(token.subscriber_id, token.list_id, ctx, now, everything=choice == "all", pause_until=until):
            return Deferred()
        raise
    if change.applied:
        count("Unsubscribes" if choice in ("list", "all") else "Pauses", source=Source.PAGE)
    logger.info("unsubscribe choice", extra={"choice": choice, "applied": change.applied})
    if change.event_key is None:
        return Next()
    return Next("/survey", change.event_key)


def choose_frequency(token: UnsubscribeToken, frequency: str, caller: Caller) -> Next:
    """Less often: stored with its consent event (see `consent.plan_frequency`). Someone who
    left is not brought back by it; choosing the frequency held records nothing."""
    mailing_list = lists.existing_list(token.list_id)
    if frequency != consent.EVERY_EMAIL and frequency not in [f["id"] for f in mailing_list.frequencies or ()]:
        raise Invalid("bad_choice", "choose one of the options")
    change = subscribers.set_frequency(
        token.subscriber_id, token.list_id, frequency, _context(caller, token, Source.PAGE), _now()
    )
    if change.status not in consent.RECEIVING:
        raise Conflict("not_subscribed", "only a subscriber can choose how often to get a list")
    if change.applied:
        count("FrequencyChoices", source=Source.PAGE)
    logger.info("frequency choice", extra={"applied": change.applied})
    if not change.applied:  # held already: its confirmation if that is the latest change, else the page saying so
        latest = subscribers.get_event(token.subscriber_id, change.event_key or "")
        if latest is None or latest.action != consent.Action.FREQUENCY:
            return Next()
    return Next("/done", change.event_key)


@dataclass(frozen=True)
class Landing:
    """What the choice page shows for a link."""

    mailing_list: lists.MailingList
    subscription: subscribers.Subscription | None
    everything_stopped: bool = False  # read only for someone who left: "all our lists" is done already

    @property
    def receiving(self) -> bool:
        return self.subscription is not None and self.subscription.status in consent.RECEIVING

    @property
    def already_left(self) -> bool:
        return self.subscription is not None and self.subscription.status == Status.UNSUBSCRIBED

    @property
    def paused_until(self) -> datetime | None:
        """The end of a pause still running (a pause that ended lets the list through again)."""
        if self.subscription is None or self.subscription.status != Status.PAUSED:
            return None
        until = self.subscription.paused_until
        return until if until is not None and until > _now() else None


def landing(raw_token: str) -> Landing:
    token, mailing_list = link_and_list(raw_token)
    subscription = subscribers.get_subscription(token.subscriber_id, token.list_id)
    landing = Landing(mailing_list, subscription)
    if landing.already_left:
        profile = subscribers.get_profile(token.subscriber_id)
        landing = Landing(mailing_list, subscription, bool(profile and profile.opted_out_all))
    return landing


MAX_EVENT_KEY = 80


def event_of_link(raw_token: str, key: str):
    """The token, event and list a follow-up page is about."""
    token, mailing_list = link_and_list(raw_token)
    event = subscribers.get_event(token.subscriber_id, key) if len(key) < MAX_EVENT_KEY else None
    if event is None or event.list_id not in (token.list_id, consent.EVERY_LIST):
        raise NotFound("not_found", "no such change for this link")
    return token, event, mailing_list


# The comment's own limit in characters, each up to 4 bytes in UTF-8 and 3 characters each
# percent-encoded: the body limit follows from it (plus the other fields).
SURVEY_BODY_LIMIT = consent.SURVEY_COMMENT_LIMIT * 12 + 4096


def answer_survey(raw_token: str, key: str, reason: str | None, comment: str | None) -> Next:
    """The optional exit survey, attached once to the change it explains."""
    token = verify_link(raw_token)
    if not key.startswith("EVENT#") or len(key) >= MAX_EVENT_KEY:
        raise NotFound("not_found", "the survey names no change of this link")
    if not reason and not (comment or "").strip():
        return Next("/done", key)  # nothing chosen: the survey is optional
    try:
        reason, comment = consent.clean_survey(reason, comment, survey_reasons(lists.cached_list(token.list_id)))
    except consent.InvalidSurvey as error:
        raise Invalid("bad_survey", str(error)) from error
    if not subscribers.record_survey(token.subscriber_id, token.list_id, key, reason, comment, _now()):
        event = subscribers.get_event(token.subscriber_id, key)
        if event is None or event.list_id not in (token.list_id, consent.EVERY_LIST):
            raise NotFound("not_found", "the survey names no change of this link")
        return Next("/done", key)  # answered before (a double submit): kept as it was
    count("SurveyAnswers", reason=reason)
    return Next("/done", key, thanks=True)


def survey_reasons(mailing_list) -> tuple[str, ...]:
    """The reasons this list's survey offers (its branding's own, else the newsletter defaults)."""
    branding = getattr(mailing_list, "branding", None)
    return consent.survey_reasons_of(getattr(branding, "survey_reasons", None))


def resubscribe(raw_token: str, caller: Caller) -> Next:
    """Someone who left this list joins it again from its page: consent given again
    (`consent.plan_subscribe` with `resubscribe`), recorded with the page as its source. Someone
    on the list already is shown the page as it is."""
    from chalicelib.core.sunset_policy import first_due, parse_policy

    token, mailing_list = link_and_list(raw_token)
    subscription = subscribers.get_subscription(token.subscriber_id, token.list_id)
    if subscription is None or subscription.status != Status.UNSUBSCRIBED:
        return Next()
    profile = subscribers.get_profile(token.subscriber_id)
    email = subscription.email or getattr(profile, "email", None)
    if not email:  # erased since: nothing to send to
        raise Conflict("not_subscribed", "this address is not known any more")
    now = _now()
    due = first_due(parse_policy(mailing_list.sunset), now)
    ctx = _context(caller, token, Source.PAGE)
    outcome = subscribers.subscribe(token.subscriber_id, email, token.list_id, ctx, now, due, resubscribe=True)
    logger.info("resubscribe from the page", extra={"outcome": str(outcome)})
    if outcome != consent.Outcome.RESUBSCRIBED:
        return Next()
    count("Resubscribes", source=Source.PAGE)
    latest = subscribers.get_subscription(token.subscriber_id, token.list_id)
    return Next("/done", latest.last_event) if latest and latest.last_event else Next()


def mailto_of_broken_link(raw_token: str) -> dict | None:
    """The list's mailto (`unsubscribe+<list>@domain`, honoured for a sender whose mail passes
    DMARC, see `mailto`) when a link that fails verification still names an existing list."""
    from chalicelib.core.ids import ID_PATTERN

    mailto = get_settings().unsubscribe_mailto
    parts = raw_token.split(".") if isinstance(raw_token, str) and len(raw_token) <= 300 else []
    if not mailto or len(parts) < 3 or not ID_PATTERN.match(parts[2]) or lists.get_list(parts[2]) is None:
        return None
    local, _, domain = mailto.rpartition("@")
    address = f"{local}+{parts[2]}@{domain}"
    return {"address": address, "uri": f"mailto:{address}?subject=unsubscribe"}


def resume(raw_token: str, caller: Caller) -> Next:
    """End a running pause now (`consent.plan_resume`); a pause that ended or changed since is
    shown on the page as it is now."""
    token = verify_link(raw_token)
    now = _now()
    state = subscribers.subscription_state(
        subscribers.get_subscription(token.subscriber_id, token.list_id), token.list_id
    )
    plan = consent.plan_resume(state, token.list_id, _context(caller, token, Source.PAGE), now)
    if not plan.applied or subscribers.commit_plan(token.subscriber_id, plan, now) is not None:
        return Next()
    count("Resumes", source=Source.PAGE)
    return Next("/done", plan.event_key)


def _latest_change(token: UnsubscribeToken):
    subscription = subscribers.get_subscription(token.subscriber_id, token.list_id)
    if subscription is None or not subscription.last_event:
        return None
    return subscribers.event_state(subscribers.get_event(token.subscriber_id, subscription.last_event))


def undo(raw_token: str, key: str, caller: Caller) -> Next | UndoUnavailable:
    """Undo the change `key` of this link (see `consent.plan_undo` / `plan_undo_frequency`). A
    repeated undo (a double click) shows what the first one did."""
    token = verify_link(raw_token)
    ctx, now = _context(caller, token, Source.PAGE), _now()
    undone = subscribers.get_event(token.subscriber_id, key)
    if undone is not None and undone.action == consent.Action.FREQUENCY:
        change = subscribers.undo_frequency(token.subscriber_id, token.list_id, undone.sk, ctx, now)
    else:
        # the sunset job reviews a returning member on its next run
        change = subscribers.undo(token.subscriber_id, token.list_id, key, ctx, now, sunset_due=now)
        if change.applied:
            count("Resubscribes", source=Source.PAGE)
    if change.applied:
        return Next("/done", change.event_key)
    already = consent.undone_by(subscribers.event_state(undone), _latest_change(token))
    if already is not None:
        return Next("/done", already)
    return UndoUnavailable(lists.get_list(token.list_id))
