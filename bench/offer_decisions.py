"""Benchmark of exit-intent decisions, handled in process by the Lambda handler against the
embedded DynamoDB server, side by side with the bare boto3 calls each needs.

Prints decisions per second, DynamoDB round trips per decision (target <= 2; 1 for a returning
visitor), and the median decision time as a ratio to the bare boto3 calls (target <= 1.25x), for
two paths: a new visitor who is issued a code (one transactional read of the visitor's state and
the site's version, then one transaction with the count and value budgets) and a returning
visitor whose offer is still valid (the one read, same code back). Then the till: validation
(one read; it answers a signed ticket), a redemption with that ticket and a rollback with the
redemption's ticket: round trips (target 1 each) and the ratio to the bare calls; and a
redemption without a ticket (the code is read first: 2).

    .venv/bin/python bench/offer_decisions.py [--decisions 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime, timedelta

from common import Quiet, RoundTrips, api_event, dynamodb_server

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
ORIGIN = "https://bench-shop.example"


def decide_event(visitor: str, ip: str) -> dict:
    body = json.dumps(
        {
            "site_key": "bench-shop",
            "visitor_id": visitor,
            "page_url": f"{ORIGIN}/cart",
            "cart_value": 99,
            "currency": "USD",
        }
    )
    headers = {"content-type": "text/plain", "origin": ORIGIN, "user-agent": CHROME}
    return api_event("POST", "/offers/decide", "/offers/decide", body, headers, ip=ip)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--decisions", type=int, default=300)
    args = parser.parse_args()
    with dynamodb_server() as endpoint:
        run(args.decisions, endpoint)


def run(n: int, endpoint: str) -> None:
    import boto3

    import app as offboard
    from chalicelib.core.settings import table_settings
    from chalicelib.offers import admin as site_admin
    from chalicelib.offers.codes import new_code
    from chalicelib.storage.tables import create_tables

    create_tables()
    site_admin.create_site("bench-shop", "Bench shop", [ORIGIN])
    site_admin.put_campaign(
        "bench-shop",
        "bench",
        {
            "offer": {"kind": "percent", "value": 10},
            "budget": {
                "total_codes": 1_000_000,
                "codes_per_day": 1_000_000,
                "total_value": 100_000_000,
                "value_per_day": 10_000_000,
                "currency": "USD",
            },
            "caps": {"dismiss_cooldown_days": [1, 7, 30]},
            "schedule": {"time_zone": "Europe/Berlin"},
            "targeting": {"paths": ["/*"]},
        },
    )
    table = table_settings().offers
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    trips = RoundTrips()

    def bare_issue(i: int) -> None:
        """What issuing needs at the least: read the visitor, then one transaction."""
        now = datetime.now(UTC)
        visitor_pk = {"S": f"VISITOR#bench-shop#bare{i}"}
        bare_read(i)
        code = new_code()
        campaign = {"S": "CAMPAIGN#bench-shop#bench"}
        one = {":one": {"N": "1"}}
        value = {**one, ":v": {"N": "9.9"}}
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": {"S": f"CODE#{code}"},
                            "sk": {"S": "CODE"},
                            "code": {"S": code},
                            "site_key": {"S": "bench-shop"},
                            "campaign_id": {"S": "bench"},
                            "variant_id": {"S": "a"},
                            "kind": {"S": "percent"},
                            "value": {"N": "10"},
                            "issued_at": {"S": now.isoformat()},
                            "expires_at": {"S": (now + timedelta(minutes=15)).isoformat()},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": table,
                        "Item": {
                            "pk": visitor_pk,
                            "sk": {"S": "STATE"},
                            "campaigns": {"S": json.dumps({"bench": {"code": code}})},
                            "version": {"N": "1"},
                        },
                        "ConditionExpression": "attribute_not_exists(version)",
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": campaign, "sk": {"S": "TOTAL"}},
                        "UpdateExpression": "ADD issued :one, value_issued :v",
                        "ConditionExpression": "(attribute_not_exists(issued) OR issued < :max) AND "
                        "(attribute_not_exists(value_issued) OR value_issued <= :vmax)",
                        "ExpressionAttributeValues": {**value, ":max": {"N": "1000000"}, ":vmax": {"N": "99999990"}},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": campaign, "sk": {"S": f"DAY#{now:%Y-%m-%d}"}},
                        "UpdateExpression": "ADD issued :one, value_issued :v",
                        "ConditionExpression": "(attribute_not_exists(issued) OR issued < :max) AND "
                        "(attribute_not_exists(value_issued) OR value_issued <= :vmax)",
                        "ExpressionAttributeValues": {**value, ":max": {"N": "1000000"}, ":vmax": {"N": "9999990"}},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": campaign, "sk": {"S": "ARM#bare"}},
                        "UpdateExpression": "ADD issued :one, visitors :one, value_issued :v",
                        "ExpressionAttributeValues": value,
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"RATE#bench-shop#bare{i}"}, "sk": {"S": "RATE"}},
                        "UpdateExpression": "ADD n :one",
                        "ConditionExpression": "attribute_not_exists(n) OR n < :max",
                        "ExpressionAttributeValues": {**one, ":max": {"N": "30"}},
                    }
                },
            ]
        )

    def bare_read(i: int) -> None:
        """The decision's one read: the visitor's state and the site's version, transactionally."""
        client.transact_get_items(
            TransactItems=[
                {
                    "Get": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"VISITOR#bench-shop#bare{i}"}, "sk": {"S": "STATE"}},
                    }
                },
                {"Get": {"TableName": table, "Key": {"pk": {"S": "SITE#bench-shop"}, "sk": {"S": "VERSION"}}}},
            ]
        )

    def bare_repeat(i: int) -> None:
        bare_read(i)

    def bare_read_code(code: str) -> None:
        client.get_item(TableName=table, Key={"pk": {"S": f"CODE#{code}"}, "sk": {"S": "CODE"}})

    def bare_till(code: str, sets: str, values: dict, read: bool = False) -> None:
        """What a redemption or a rollback needs at the least: one transaction (the code, the
        arm's and the campaign's counters); without a ticket, a read of the code first."""
        key = {"pk": {"S": f"CODE#{code}"}, "sk": {"S": "CODE"}}
        if read:
            client.get_item(TableName=table, Key=key)
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": sets,
                        "ExpressionAttributeValues": values,
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "CAMPAIGN#bench-shop#bench"}, "sk": {"S": "ARM#bare"}},
                        "UpdateExpression": "ADD redemptions :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "CAMPAIGN#bench-shop#bench"}, "sk": {"S": "TOTAL"}},
                        "UpdateExpression": "ADD value_redeemed :v",
                        "ConditionExpression": "attribute_not_exists(value_redeemed) OR value_redeemed <= :max",
                        "ExpressionAttributeValues": {":v": {"N": "990"}, ":max": {"N": "9999999010"}},
                    }
                },
            ]
        )

    with Quiet():
        offboard.app(decide_event("warm", "198.51.100.1"), None)  # warm: site cache, connections
        bare_issue(-1)
        issue_times, bare_issue_times, issue_trips = [], [], []
        for i in range(n):
            before = trips.count
            start = time.perf_counter()
            response = offboard.app(decide_event(f"v{i}", f"198.51.{i // 250}.{i % 250}"), None)
            issue_times.append(time.perf_counter() - start)
            issue_trips.append(trips.count - before)
            assert json.loads(response["body"])["show"], response
            start = time.perf_counter()
            bare_issue(i)
            bare_issue_times.append(time.perf_counter() - start)
        repeat_times, bare_repeat_times, repeat_trips, codes = [], [], [], []
        for i in range(n):
            before = trips.count
            start = time.perf_counter()
            response = offboard.app(decide_event(f"v{i}", f"198.51.{i // 250}.{i % 250}"), None)
            repeat_times.append(time.perf_counter() - start)
            repeat_trips.append(trips.count - before)
            codes.append(json.loads(response["body"])["offer"]["code"])
            start = time.perf_counter()
            bare_repeat(i)
            bare_repeat_times.append(time.perf_counter() - start)

        def till_call(path: str, code: str, body: dict | None) -> tuple[dict, float, int]:
            method, resource = ("POST", f"/v1/codes/{{code}}/{path}") if path else ("GET", "/v1/codes/{code}")
            event = api_event(
                method,
                resource,
                f"/v1/codes/{code}/{path}" if path else f"/v1/codes/{code}",
                json.dumps(body) if body is not None else "",
                {"content-type": "application/json", "x-api-key": "dev-admin-key"},
                path_parameters={"code": code},
            )
            before = trips.count
            start = time.perf_counter()
            response = offboard.app(event, None)
            elapsed = time.perf_counter() - start
            assert response["statusCode"] == 200, response
            return json.loads(response["body"]), elapsed, trips.count - before

        till = {name: ([], [], []) for name in ("validation", "redemption (ticket)", "rollback (ticket)")}
        till["redemption (no ticket)"] = ([], [], [])
        order = {"channel": "store", "order_value": 99, "currency": "USD"}
        for i, code in enumerate(codes):
            steps = [
                ("validation", "", None, lambda c=code: bare_read_code(c)),
                ("redemption (ticket)", "redemptions", {"order_ref": f"order-{i}", **order}, None),
                ("rollback (ticket)", "rollbacks", {"order_ref": f"order-{i}"}, None),
                ("redemption (no ticket)", "redemptions", {"order_ref": f"order-{i}", **order}, None),
            ]
            ticket = None
            for name, path, body, bare in steps:
                if body is not None and name != "redemption (no ticket)":
                    body = {**body, "ticket": ticket}
                answer, elapsed, round_trips = till_call(path, code, body)
                ticket = answer.get("ticket")
                start = time.perf_counter()
                if bare is not None:
                    bare()
                else:
                    bare_till(code, "SET order_ref = :o", {":o": {"S": f"order-{i}"}}, read="no ticket" in name)
                times, bare_times, trips_of = till[name]
                bare_times.append(time.perf_counter() - start)
                times.append(elapsed)
                trips_of.append(round_trips)

    def line(name, times, bare, round_trips):
        median, bare_median = statistics.median(times), statistics.median(bare)
        print(
            f"{name:<34} {len(times) / sum(times):7.0f} decisions/s   round trips {statistics.mean(round_trips):.2f} (max {max(round_trips)})   "
            f"median {median * 1000:.2f} ms vs bare boto3 {bare_median * 1000:.2f} ms = {median / bare_median:.2f}x"
        )

    print(f"decisions per path: {n}   targets: round trips <= 2 (returning visitor 1), ratio <= 1.25x")
    line("new visitor, code issued", issue_times, bare_issue_times, issue_trips)
    line("returning visitor, same code", repeat_times, bare_repeat_times, repeat_trips)
    print(
        "at the till   targets: round trips 1 (validation; redemption and rollback with the ticket of the step before); "
        "bare = one transaction (+ a read of the code without a ticket)"
    )
    for name, (times, bare_times, round_trips) in till.items():
        line(name, times, bare_times, round_trips)


if __name__ == "__main__":
    main()
