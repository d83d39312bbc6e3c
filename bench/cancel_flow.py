"""Benchmark of the hosted cancellation page, handled in process by the Lambda handler against
the embedded DynamoDB server, beside the bare boto3 calls each step needs at the least.

Prints, per step (landing GET, "Continue" to the offer, "Accept", the done page GET), the
DynamoDB round trips (target 1 per step) and the median time as a ratio to the bare calls
(target <= 1.25x), measured side by side in one run. A GET reads the session (one consistent
GetItem). A click plans from the session the page sealed into its form (`chalicelib.cancel.
tickets`) and writes its change with no read first: one TransactWriteItems (the session on its
version, the report's counters, the webhook's outbox entry, the budget when an offer is
accepted). The bare figure for a click is a TransactWriteItems of the same items with the
session already in hand.

    .venv/bin/python bench/cancel_flow.py [--sessions 200]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode, urlsplit

from common import Quiet, RoundTrips, api_event, dynamodb_server

FORM = {"content-type": "application/x-www-form-urlencoded", "accept-language": "en"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    with dynamodb_server() as endpoint:
        run(args.sessions, endpoint)


def subscriptions_shown_an_offer(n: int) -> list[str]:
    from chalicelib.cancel import contracts
    from chalicelib.domain import cancel as rules

    found = []
    for i in range(n * 2):
        raw = session_body(f"sub{i}")
        session = rules.open_session(
            contracts.parse_session_request(raw, date.today()), rules.DEFAULT_FLOW, "x", datetime.now(UTC)
        )
        if rules.choose_offer(session, rules.Reason.UNUSED)[1] is not None:
            found.append(f"sub{i}")
    return found[:n]


def ticket_of(response: dict) -> str:
    return re.search(r'name="ticket" value="([^"]+)"', response["body"]).group(1)


def session_body(subscription_id: str) -> dict:
    return {
        "business": "bench",
        "customer_id": f"c{subscription_id}",
        "subscription_id": subscription_id,
        "plan": "Pro",
        "price": 1999,
        "currency": "USD",
        "return_url": "https://bench.example/account",
        "effective_date": (date.today() + timedelta(days=30)).isoformat(),
    }


def run(n: int, endpoint: str) -> None:
    import boto3

    import app as offboard
    from chalicelib.cancel import service
    from chalicelib.cancel.contracts import parse_session_request
    from chalicelib.core.settings import table_settings
    from chalicelib.storage.tables import create_tables

    create_tables()
    table = table_settings().offers
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    trips = RoundTrips()
    steps: dict[str, list[tuple[int, float]]] = {
        "landing GET": [],
        "continue POST": [],
        "accept POST": [],
        "done GET": [],
    }
    bare: dict[str, list[float]] = {k: [] for k in steps}

    def call(step: str, method: str, path: str, body: str = "") -> dict:
        before, start = trips.count, time.perf_counter()
        response = offboard.app(
            api_event(method, "/cancel/{token}", path, body, FORM, {"token": path.split("/")[-1]}), None
        )
        steps[step].append((trips.count - before, time.perf_counter() - start))
        assert response["statusCode"] == 200, response
        return response

    def bare_step(step: str, session_id: str, write: bool, event: bool = False) -> None:
        key = {"pk": {"S": f"CANCEL#{session_id}"}, "sk": {"S": "SESSION"}}
        if not write:
            start = time.perf_counter()
            client.get_item(TableName=table, Key=key, ConsistentRead=True)
            bare[step].append(time.perf_counter() - start)
            return
        # The bare write starts with the item in hand, as the page's ticket gives the handler.
        item = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
        bare_key = {"pk": {"S": f"CANCEL#bare{session_id}"}, "sk": {"S": "SESSION"}}
        version = item["version"]["N"]
        outbox = [{"Put": {"TableName": table, "Item": {"pk": {"S": "CANCELOUTBOX#bare"}, "sk": {"S": session_id}}}}]
        value = ("VALUE#unused#pause-2#USD",) if event else ()
        start = time.perf_counter()
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {**item, **bare_key, "version": {"N": str(int(version) + 1)}},
                        "ConditionExpression": "attribute_not_exists(version) OR version = :v",
                        "ExpressionAttributeValues": {":v": {"N": version}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                *(
                    {
                        "Update": {
                            "TableName": table,
                            "Key": {"pk": {"S": "CANCELFLOW#bare"}, "sk": {"S": counter}},
                            "UpdateExpression": "ADD sessions :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    }
                    # The report's counters: (reason, arm), (day, reason), and on accepting the value given.
                    for counter in ("STATS#unused#pause-2", f"DAY#{date.today()}#unused", *value)
                ),
                *(outbox if event else []),
            ]
        )
        bare[step].append(time.perf_counter() - start)

    def side_by_side(bare_first: bool, step: str, session_id: str, ours, write: bool, event: bool = False):
        """Our step and the bare one; every other session times the bare call first, so neither
        side gains from going second (a warm item, a reused connection)."""
        if bare_first:
            bare_step(step, session_id, write, event)
        answer = ours()
        if not bare_first:
            bare_step(step, session_id, write, event)
        return answer

    with Quiet():
        for i, subscription in enumerate(subscriptions_shown_an_offer(n)):
            opened = service.open_session(
                parse_session_request(session_body(subscription), date.today()), datetime.now(UTC)
            )
            path, first = urlsplit(opened.url).path, i % 2 == 1
            landing = side_by_side(
                first, "landing GET", opened.session_id, lambda p=path: call("landing GET", "GET", p), write=False
            )
            form = urlencode({"action": "continue", "reason": "unused", "ticket": ticket_of(landing)})
            offer = side_by_side(
                first,
                "continue POST",
                opened.session_id,
                lambda p=path, f=form: call("continue POST", "POST", p, f),
                write=True,
            )
            form = urlencode({"action": "accept", "offer_id": "pause-2", "ticket": ticket_of(offer)})
            side_by_side(
                first,
                "accept POST",
                opened.session_id,
                lambda p=path, f=form: call("accept POST", "POST", p, f),
                write=True,
                event=True,
            )
            side_by_side(first, "done GET", opened.session_id, lambda p=path: call("done GET", "GET", p), write=False)

    print(f"cancellation flow, {len(steps['landing GET'])} sessions (embedded DynamoDB server)")
    for step, results in steps.items():
        rounds = sorted({r for r, _ in results})
        median = statistics.median(t for _, t in results)
        bare_median = statistics.median(bare[step])
        # Each step and its bare call ran back to back: the median of those pairs' ratios is the
        # figure least moved by other load on the machine.
        paired = statistics.median(t / b for (_, t), b in zip(results, bare[step], strict=True))
        print(
            f"  {step:<14} DynamoDB round trips {json.dumps(rounds)} (target 1); "
            f"median {median * 1000:.2f} ms vs bare boto3 {bare_median * 1000:.2f} ms = {median / bare_median:.2f}x, "
            f"paired {paired:.2f}x (target <= 1.25x)"
        )


if __name__ == "__main__":
    main()
