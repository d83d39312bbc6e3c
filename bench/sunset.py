"""Benchmark of the sunset job on a list of 100,000 subscribers (5% inactive) in the embedded
DynamoDB server, re-permission emails sent through the local SES.

Prints the items the job read as a ratio to the subscribers due (target <= 1.1), subscribers
processed per second, and the job's DynamoDB calls by kind.

    .venv/bin/python bench/sunset.py [--subscribers 100000] [--inactive-share 0.05]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from common import Quiet, dynamodb_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--inactive-share", type=float, default=0.05)
    args = parser.parse_args()
    with dynamodb_server() as endpoint:
        os.environ["SES_ENDPOINT"] = endpoint
        run(args.subscribers, args.inactive_share, endpoint)


def build_list(n: int, inactive_share: float, endpoint: str) -> int:
    """Writes the subscriptions as the service would have left them, in bulk (BatchWriteItem)."""
    import boto3
    from pynamodb.attributes import UTCDateTimeAttribute

    from chalicelib.core.ids import SHARDS, shard_of
    from chalicelib.storage.connection import TABLES
    from chalicelib.storage.subscribers import due_key

    table = boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1").Table(TABLES.subscribers)
    now = datetime.now(UTC)
    stamp = UTCDateTimeAttribute().serialize  # the format the models read
    joined = stamp(now - timedelta(days=400))
    random.seed(7)
    inactive = set(random.sample(range(n), int(n * inactive_share)))
    members = Counter()
    with table.batch_writer() as batch:
        for i in range(n):
            sid = f"sbench{i:07d}"
            members[shard_of(sid)] += 1
            quiet = i in inactive
            engaged = now - (timedelta(days=190) if quiet else timedelta(days=random.randint(0, 170)))
            due = now if quiet else engaged + timedelta(days=180)
            batch.put_item(
                Item={
                    "pk": sid,
                    "sk": "LIST#bench",
                    "list_id": "bench",
                    "status": "active",
                    "email": f"{sid}@example.com",
                    "subscribed_at": joined,
                    "last_engaged_at": stamp(engaged),
                    "sends_since_engaged": 24 if quiet else random.randint(0, 20),
                    "sunset_due": due_key(due, sid),
                }
            )
        for shard in range(SHARDS):
            batch.put_item(Item={"pk": "MEMBERS#bench", "sk": f"SHARD#{shard:02d}", "members": members[shard]})
    return len(inactive)


class ItemsRead:
    """Sums what DynamoDB reports as read: items scanned by queries, items got."""

    def __init__(self):
        from pynamodb.connection.base import Connection

        self.by_kind: Counter = Counter()
        self.calls: Counter = Counter()
        original = Connection._make_api_call
        meter = self

        def metered(connection, operation, kwargs):
            response = original(connection, operation, kwargs)
            meter.calls[operation] += 1
            if operation == "Query":
                index = "sunset index" if kwargs.get("IndexName") else "bookkeeping"
                meter.by_kind[index] += response.get("ScannedCount", 0)
            elif operation == "GetItem":
                meter.by_kind["bookkeeping"] += 1 if response.get("Item") else 0
            return response

        Connection._make_api_call = metered


def run(n: int, inactive_share: float, endpoint: str) -> None:
    from chalicelib.core.aws import ses
    from chalicelib.storage import lists, sunset_runs
    from chalicelib.storage.tables import create_tables
    from chalicelib.sunset import job as sunset_job
    from chalicelib.sunset.email import send_reminder

    create_tables()
    # 5% of the list is inactive by construction: the brakes (default 5% a run, 10% in 7 days)
    # are set just above it.
    limit = min(1.0, inactive_share + 0.01)
    lists.create_list("bench", "Bench list", sunset={"max_share": limit, "max_share_7d": limit, "max_share_30d": limit})
    ses().create_email_identity(EmailIdentity=os.environ.get("OFFER_EMAIL_FROM", "offers@offboard.example"))
    start = time.perf_counter()
    due = build_list(n, inactive_share, endpoint)
    print(f"list built: {n} subscribers, {due} inactive and due ({time.perf_counter() - start:.0f} s)")

    meter = ItemsRead()
    with Quiet():
        start = time.perf_counter()
        run_id = sunset_job.run_locally(False, send_reminder)
        elapsed = time.perf_counter() - start
    report = sunset_job.report(sunset_runs.get_run(run_id))
    index_reads, bookkeeping = meter.by_kind["sunset index"], meter.by_kind["bookkeeping"]
    print(f"run {report['status']}: {report['outcomes']}")
    print(f"subscribers due:                      {due}")
    print(f"items read from the sunset index:     {index_reads}  ratio to due {index_reads / due:.3f}  target <= 1.1")
    print(
        f"all items read (with run bookkeeping): {index_reads + bookkeeping}  ratio to due {(index_reads + bookkeeping) / due:.3f}"
    )
    print(
        f"subscribers processed per second:     {report['outcomes']['found'] / elapsed:.0f} ({elapsed:.1f} s for the run, SES sends included)"
    )
    print(f"DynamoDB calls by operation:          {dict(meter.calls)}")


if __name__ == "__main__":
    main()
