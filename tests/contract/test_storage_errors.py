"""Nothing of PynamoDB or botocore goes above storage: with DynamoDB out of reach (every request
times out, after the clients' retries), each storage function raises `core.errors`'
StorageUnavailable, which the endpoint answers with a 503 as it always answered DynamoDB's own
failures."""

from datetime import UTC, datetime, timedelta

import botocore.retries.standard
import pytest
from botocore.exceptions import ReadTimeoutError
from moto.core.botocore_stubber import BotocoreStubber

from chalicelib.core.errors import StorageUnavailable
from chalicelib.domain.consent import AuditContext, Source
from chalicelib.domain.coupons import IssueLimits, plan_issue
from chalicelib.storage import lists, offers, subscribers, sunset_runs
from chalicelib.storage.subscribers import Subscription
from tests.contract.test_coupon_store import a_code

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CTX = AuditContext(Source.API)
LIMITS = offers.EmailLimits(3, 3, 3)


def a_candidate():
    return Subscription("s1", "LIST#news", list_id="news", status="active", sunset_due="2026-11-23#01")


CALLS = {
    "get_profile": lambda: subscribers.get_profile("s1"),
    "get_subscription": lambda: subscribers.get_subscription("s1", "news"),
    "get_event": lambda: subscribers.get_event("s1", "EVENT#x"),
    "subscriptions_of": lambda: subscribers.subscriptions_of("s1"),
    "consent_events": lambda: subscribers.consent_events("s1"),
    "everything_about": lambda: subscribers.everything_about("s1"),
    "permission_records": lambda: subscribers.permission_records("news", ["s1"]),
    "members_of": lambda: subscribers.members_of("news"),
    "reason_counts": lambda: subscribers.reason_counts("news", "2026-01", "2026-12"),
    "leaving_counts": lambda: subscribers.leaving_counts("news", "2026-01", "2026-12"),
    "subscribe": lambda: subscribers.subscribe("s1", "a@example.com", "news", CTX, NOW, NOW),
    "unsubscribe": lambda: subscribers.unsubscribe("s1", "news", CTX, NOW),
    "pause": lambda: subscribers.pause("s1", "news", NOW + timedelta(days=30), CTX, NOW),
    "unsubscribe_all": lambda: subscribers.unsubscribe_all("s1", CTX, NOW),
    "undo": lambda: subscribers.undo("s1", "news", "EVENT#x", CTX, NOW, NOW),
    "suppress_channel": lambda: subscribers.suppress_channel("s1", "email", CTX, NOW),
    "record_survey": lambda: subscribers.record_survey("s1", "news", "EVENT#x", "other", None, NOW),
    "set_frequency": lambda: subscribers.set_frequency("s1", "news", "weekly", CTX, NOW),
    "undo_frequency": lambda: subscribers.undo_frequency("s1", "news", "EVENT#x", CTX, NOW),
    "erase": lambda: subscribers.erase("s1", NOW),
    "record_engagement": lambda: subscribers.record_engagement("s1", "news", NOW, NOW),
    "count_send": lambda: subscribers.count_send("s1", "news", "m1", NOW),
    "count_transient_bounce": lambda: subscribers.count_transient_bounce("s1"),
    "sms_opt_out": lambda: subscribers.sms_opt_out("n1", NOW, CTX, NOW),
    "sms_opted_out": lambda: subscribers.sms_opted_out(["n1"]),
    "sms_profile": lambda: subscribers.sms_profile("n1"),
    "due_page": lambda: subscribers.due_page("2026-11-23", 1, None),
    "reschedule": lambda: subscribers.reschedule(a_candidate(), NOW),
    "mark_pending": lambda: subscribers.mark_pending(a_candidate(), NOW, NOW),
    "mark_reminded": lambda: subscribers.mark_reminded(a_candidate(), NOW, NOW),
    "release_pending": lambda: subscribers.release_pending(a_candidate(), NOW),
    "sunset_unsubscribe": lambda: subscribers.sunset_unsubscribe(a_candidate(), NOW),
    "reminded_together": lambda: subscribers.reminded_together("s1", "news"),
    "unsubscribe_reminded": lambda: subscribers.unsubscribe_reminded("s1", "news", CTX, NOW),
    "get_list": lambda: lists.get_list("news"),
    "existing_list": lambda: lists.existing_list("news"),
    "create_list": lambda: lists.create_list("news", "News"),
    "list_ids": lambda: lists.list_ids(),
    "set_sunset_policy": lambda: lists.set_sunset_policy("news", {}),
    "set_frequencies": lambda: lists.set_frequencies("news", []),
    "get_site": lambda: offers.get_site("shop"),
    "create_site": lambda: offers.create_site("shop", "Shop", ["https://shop.example"], ["s"]),
    "site_and_visitor": lambda: offers.site_and_visitor("shop", "v1", with_site=True),
    "visitor": lambda: offers.site_and_visitor("shop", "v1", with_site=False),
    "visitor_and_site_version": lambda: offers.visitor_and_site_version("shop", "v1"),
    "get_code": lambda: offers.get_code("ABCD-EFGH"),
    "issue": lambda: offers.DYNAMODB.issue(
        a_code(), offers.new_visitor("shop", "v1"), plan_issue(IssueLimits(10), 30, True), "d", "r", 5, NOW
    ),
    "mark_coupon": lambda: offers.mark_coupon("shop", "ABCD-EFGH", "c1", "A", "claimed_at", NOW),
    "reserve_email": lambda: offers.reserve_email("shop", "ABCD-EFGH", "ip", LIMITS, NOW),
    "record_dismissal": lambda: offers.record_dismissal(offers.new_visitor("shop", "v1"), "shop", "c1", "A"),
    "record_holdout": lambda: offers.record_holdout(offers.new_visitor("shop", "v1"), "shop", "c1"),
    "campaign_counters": lambda: offers.campaign_counters("shop", "c1"),
    "campaign_counts": lambda: offers.DYNAMODB.campaign_counts("shop", "c1"),
    "customer_redemptions": lambda: offers.DYNAMODB.customer_redemptions("shop", "c1", "c"),
    "count_conversion": lambda: offers.count_conversion(offers.new_visitor("shop", "v1"), "shop", "c1", "A"),
    "create_run": lambda: sunset_runs.create_run("r1", ["2026-11-23"], 2, False, NOW),
    "get_run": lambda: sunset_runs.get_run("r1"),
    "recent_runs": lambda: sunset_runs.recent_runs(),
    "add_outcomes": lambda: sunset_runs.add_outcomes("r1", {"found": 1}),
    "list_counts": lambda: sunset_runs.list_counts("r1"),
    "finish_phase": lambda: sunset_runs.finish_phase("r1", "scanned", 0),
    "chunks": lambda: sunset_runs.chunks("r1", 0),
    "update_run": lambda: sunset_runs.update_run("r1", status="done"),
    "acted_between": lambda: sunset_runs.acted_between("news", NOW, NOW),
    "get_cursor": lambda: sunset_runs.get_cursor(),
    "set_cursor": lambda: sunset_runs.set_cursor("2026-11-23"),
    "add_list_counts": lambda: sunset_runs.add_list_counts("r1", "news", {}),
    "save_chunk": lambda: sunset_runs.save_chunk("r1", 0, 0, [], NOW),
    "add_left_days": lambda: sunset_runs.add_left_days("r1", {"2026-11-23"}),
}


@pytest.fixture
def unreachable(aws, monkeypatch):
    """Every DynamoDB request times out (after botocore's and PynamoDB's retries, without their waits)."""
    real = BotocoreStubber.__call__

    def time_out(stubber, event_name, request, **kwargs):
        target = request.headers.get("X-Amz-Target", b"")
        if (target.decode() if isinstance(target, bytes) else target).startswith("DynamoDB_"):
            raise ReadTimeoutError(endpoint_url=request.url)
        return real(stubber, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", time_out)
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_storage_out_of_reach_raises_only_core_errors(unreachable, name):
    with pytest.raises(StorageUnavailable):
        result = CALLS[name]()
        list(result) if hasattr(result, "__next__") else None  # a lazy read fails when it is read
