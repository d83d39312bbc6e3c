"""Benchmark of the one-click POST, handled in process by the Lambda handler against the
embedded DynamoDB server, side by side with the bare boto3 write it needs.

Prints: DynamoDB round trips per one-click request (target 1); the handler's median time as a
ratio to the bare boto3 TransactWriteItems against the same server in the same run (target
<= 1.5x); the cold import time of `app.py` as a ratio to `import boto3` (target <= 1.3x).

    .venv/bin/python bench/one_click.py [--requests 300] [--imports 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from common import ROOT, Quiet, RoundTrips, api_event, dynamodb_server


def cold_import_seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=os.environ, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def one_click_event(token: str) -> dict:
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "Mozilla/5.0 (compatible; Google-Unsubscribe)",
    }
    return api_event("POST", "/u/{token}", f"/u/{token}", "List-Unsubscribe=One-Click", headers, {"token": token})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--imports", type=int, default=25)
    args = parser.parse_args()

    with dynamodb_server() as endpoint:
        run(args, endpoint)


def run(args, endpoint: str) -> None:
    import boto3

    import app as offboard
    from chalicelib.core.ids import event_key
    from chalicelib.core.settings import get_settings, table_settings
    from chalicelib.storage import lists, subscribers
    from chalicelib.storage.tables import create_tables
    from chalicelib.unsubscribe.headers import unsubscribe_url

    create_tables()
    lists.create_list("bench", "Bench list")
    settings = get_settings()
    TABLES = table_settings()  # noqa: N806  (a constant of this run)
    n = args.requests
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    people = [f"sbench{i:06d}" for i in range(2 * n)]
    for sid in people:
        subscribers.subscribe(sid, f"{sid}@example.com", "bench", subscribers.AuditContext("api"), now, sunset_due=now)
    handler_ids, bare_ids = people[:n], people[n:]
    tokens = [unsubscribe_url(settings, sid, "bench").rsplit("/u/", 1)[1] for sid in handler_ids]

    trips = RoundTrips()
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")

    def bare_write(sid: str) -> None:
        stamp = datetime.now(UTC).isoformat()
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": TABLES.lists,
                        "Key": {"list_id": {"S": "bench"}},
                        "ConditionExpression": "attribute_exists(list_id)",
                    }
                },
                {
                    "Put": {
                        "TableName": TABLES.subscribers,
                        "Item": {
                            "pk": {"S": sid},
                            "sk": {"S": event_key(datetime.now(UTC))},
                            "action": {"S": "unsubscribe"},
                            "list_id": {"S": "bench"},
                            "source": {"S": "one-click"},
                            "at": {"S": stamp},
                        },
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                },
                {
                    "Update": {
                        "TableName": TABLES.subscribers,
                        "Key": {"pk": {"S": sid}, "sk": {"S": "LIST#bench"}},
                        "UpdateExpression": "SET #s = :u, unsubscribed_at = :t, last_event = :e "
                        "REMOVE paused_until, sunset_due, sunset_state, pending_since, reminder_sent_at",
                        "ConditionExpression": "#s IN (:a, :p)",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":u": {"S": "unsubscribed"},
                            ":t": {"S": stamp},
                            ":e": {"S": "EVENT#x"},
                            ":a": {"S": "active"},
                            ":p": {"S": "paused"},
                        },
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "Update": {
                        "TableName": TABLES.subscribers,
                        "Key": {"pk": {"S": "MEMBERS#bench"}, "sk": {"S": "SHARD#00"}},
                        "UpdateExpression": "ADD members :minus",
                        "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                    }
                },
            ]
        )

    # Warm both paths (connections, first-use imports) before measuring.
    with Quiet():
        offboard.app(one_click_event(tokens[0]), None)
    bare_write(bare_ids[0])

    handler_times, bare_times, handler_sends = [], [], []
    with Quiet():
        for token, sid in zip(tokens[1:], bare_ids[1:], strict=True):
            before = trips.count
            start = time.perf_counter()
            response = offboard.app(one_click_event(token), None)
            handler_times.append(time.perf_counter() - start)
            handler_sends.append(trips.count - before)
            assert response["statusCode"] == 200, response
            start = time.perf_counter()
            bare_write(sid)
            bare_times.append(time.perf_counter() - start)
        repeat_before = trips.count
        offboard.app(one_click_event(tokens[1]), None)  # already unsubscribed: the idempotent path
        repeat_sends = trips.count - repeat_before

    app_imports, boto_imports = [], []
    for _ in range(args.imports):
        app_imports.append(cold_import_seconds("import app"))
        boto_imports.append(cold_import_seconds("import boto3"))

    handler_median, bare_median = statistics.median(handler_times), statistics.median(bare_times)
    app_import, boto_import = statistics.median(app_imports), statistics.median(boto_imports)
    print(f"one-click requests measured:        {len(handler_times)}")
    print(
        f"DynamoDB round trips per request:    {statistics.mean(handler_sends):.2f} (max {max(handler_sends)}; repeat POST: {repeat_sends})  target 1"
    )
    print(f"handler median:                      {handler_median * 1000:.2f} ms")
    print(f"bare boto3 TransactWriteItems median: {bare_median * 1000:.2f} ms")
    print(f"handler / bare boto3:                {handler_median / bare_median:.2f}x  target <= 1.5x")
    print(f"cold import app.py median:           {app_import * 1000:.1f} ms")
    print(f"cold import boto3 median:            {boto_import * 1000:.1f} ms")
    print(f"import app / import boto3:           {app_import / boto_import:.2f}x  target <= 1.3x")


if __name__ == "__main__":
    main()
