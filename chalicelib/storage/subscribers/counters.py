"""Why people leave, counted: atomic counters written in the same transaction as the consent
event they count, so a count never exists without its event (nor an event without its count).

Layout (subscribers table): `LEAVING#<list>` / `<YYYY-MM>#<shard>`, one item per list, month
and subscriber shard (the shards spread concurrent writes, like the member counters). Each
counter is a number attribute named `<kind>#<detail>`:

- `unsubscribe#<source>`, `pause#<source>`, `resume#<source>`, `resubscribe#<source>`
- `frequency#<id>` (a "less often" choice) and `frequency_undone#<id>`

A change that covers every list (stop everything, its undo) writes one item `LEAVING#*`, with
`unsubscribe_all#<source>` / `resubscribe_all#<source>` once and `unsubscribe#<source>@<list>` /
`resubscribe#<source>@<list>` for each list it changed (one item instead of one per list keeps
the transaction under DynamoDB's 100 items). Counter names are not declared attributes: sources
and frequency ids come from callers and operators, so reads take the raw items.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pynamodb.expressions.operand import Path

from chalicelib.core.ids import shard_of
from chalicelib.storage.subscribers.models import SubscriberPartition
from chalicelib.storage.transactions import Transaction, storage_errors

EVERY_LIST = "*"
_ONE = {"N": "1"}


class LeavingCounter(SubscriberPartition):
    """One list's counters for one month and shard; the counters themselves are raw attributes."""


def counter_key(list_id: str, subscriber_id: str, when: datetime) -> tuple[str, str]:
    return f"LEAVING#{list_id}", f"{when:%Y-%m}#{shard_of(subscriber_id):02d}"


def count_in(
    transaction: Transaction,
    list_id: str,
    subscriber_id: str,
    when: datetime,
    names: list[str],
    item_name: str = "counts",
) -> Transaction:
    """Add one to each named counter of `list_id` for `when`'s month, as one more update item of
    `transaction` (no condition: it never fails on its own)."""
    if not names:
        return transaction
    pk, sk = counter_key(list_id, subscriber_id, when)
    totals = Counter(names)
    actions = [Path([name]).add({"N": str(n)}) for name, n in sorted(totals.items())]
    return transaction.update(item_name, LeavingCounter(pk, sk), actions)


@storage_errors
def leaving_counts(list_id: str, first_month: str, last_month: str) -> dict[str, dict[str, int]]:
    """Month -> counter name -> count for `list_id`, the shards summed; a month with no counter
    is absent."""
    connection = LeavingCounter._get_connection()
    months: dict[str, Counter] = {}
    start = None
    while True:
        page = connection.query(
            f"LEAVING#{list_id}",
            range_key_condition=LeavingCounter.sk.between(first_month, f"{last_month}#~"),
            exclusive_start_key=start,
        )
        for item in page.get("Items", []):
            month = item["sk"]["S"].split("#")[0]
            totals = months.setdefault(month, Counter())
            for name, value in item.items():
                if name not in ("pk", "sk") and "N" in value:
                    totals[name] += int(value["N"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return {month: dict(totals) for month, totals in sorted(months.items())}
