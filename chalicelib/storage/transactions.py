"""Conditional writes: one transaction helper for all-or-nothing writes, one for single
conditional writes, and reading why a condition did not hold.

`Transaction` names each item as it is added; when DynamoDB cancels the transaction because
conditions failed, `ConditionsFailed` says which names failed and what those items held
(`ALL_OLD`), so callers never count positions in PynamoDB's request.
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import (
    DeleteError,
    DoesNotExist,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.transactions import TransactWrite

from chalicelib.core.errors import StorageUnavailable
from chalicelib.storage.connection import connection


class TransactionConflict(StorageUnavailable):
    """Another transaction touched the same items at the same moment: retry (or answer 503)."""

    def __init__(self):
        super().__init__("transaction conflict")


class ConditionsFailed(Exception):
    """The transaction was cancelled because these named conditions did not hold."""

    def __init__(self, failed: dict[str, dict]):
        super().__init__(", ".join(sorted(failed)))
        self.failed = failed  # name -> the item as it was (raw DynamoDB JSON; {} when absent)

    def __contains__(self, name: str) -> bool:
        return name in self.failed

    def old(self, name: str, attribute: str) -> str | None:
        """A string attribute of the item named `name` as it was when its condition failed."""
        return ((self.failed.get(name) or {}).get(attribute) or {}).get("S")


def response_code(error: PynamoDBException) -> str | None:
    """The DynamoDB error code behind a PynamoDB error. (PynamoDB's own `cause_response_code`
    raises AttributeError when the cause is a timeout, whose `response` is None.)"""
    response = getattr(error.cause, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


# PynamoDB sends condition checks, then deletes, then puts, then updates, each in the order added.
_ORDER = ("check", "delete", "put", "update")


class Transaction:
    """Items written all or nothing. Each item has a name, for `ConditionsFailed`."""

    def __init__(self):
        self._items: list[tuple[str, str, Callable[[TransactWrite], None]]] = []

    def check(self, name: str, model_cls, hash_key, range_key=None, *, condition) -> Transaction:
        self._items.append(
            ("check", name, lambda t: t.condition_check(model_cls, hash_key, range_key, condition=condition))
        )
        return self

    def put(self, name: str, item, condition=None, keep_old: bool = False) -> Transaction:
        return_values = "ALL_OLD" if keep_old else None
        self._items.append(("put", name, lambda t: t.save(item, condition=condition, return_values=return_values)))
        return self

    def update(self, name: str, item, actions: list, condition=None, keep_old: bool = False) -> Transaction:
        return_values = "ALL_OLD" if keep_old else None
        self._items.append(
            (
                "update",
                name,
                lambda t: t.update(item, actions=actions, condition=condition, return_values=return_values),
            )
        )
        return self

    def delete(self, name: str, item, condition=None) -> Transaction:
        self._items.append(("delete", name, lambda t: t.delete(item, condition=condition)))
        return self

    def __len__(self) -> int:
        return len(self._items)

    def _names_in_request_order(self) -> list[str]:
        return [name for kind in _ORDER for k, name, _ in self._items if k == kind]

    def commit(self, request_token: str | None = None) -> None:
        """Raises ConditionsFailed (conditions), TransactionConflict (a concurrent transaction),
        or the storage error as it is. With `request_token` (up to 36 characters), DynamoDB treats
        a retry of a commit that already landed (a timed-out attempt) as success for 10 minutes."""
        try:
            with TransactWrite(connection=connection(), client_request_token=request_token) as transaction:
                for _, _, add in self._items:
                    add(transaction)
        except TransactWriteError as error:
            reasons = error.cancellation_reasons if response_code(error) == "TransactionCanceledException" else []
            if any(r is not None and r.code == "TransactionConflict" for r in reasons):
                raise TransactionConflict() from error
            names = self._names_in_request_order()
            failed = {
                names[i]: (r.raw_item or {})
                for i, r in enumerate(reasons)
                if r is not None and r.code == "ConditionalCheckFailed" and i < len(names)
            }
            if not failed:
                raise StorageUnavailable() from error
            raise ConditionsFailed(failed) from error
        except (PynamoDBException, BotoCoreError) as error:
            raise StorageUnavailable() from error

    def commit_unless(self, name: str | None = None) -> bool:
        """Commit; False when the condition of item `name` (any condition, if None) failed."""
        try:
            self.commit()
        except ConditionsFailed as failed:
            if name is not None and name not in failed:
                raise
            return False
        return True


def written(write: Callable[[], object]) -> bool:
    """Run one conditional put, update or delete; False when its condition failed, anything else raised."""
    try:
        write()
    except (PutError, UpdateError, DeleteError) as error:
        if response_code(error) == "ConditionalCheckFailedException":
            return False
        raise StorageUnavailable() from error
    except (PynamoDBException, BotoCoreError) as error:
        raise StorageUnavailable() from error
    return True


def get_or_none(model_cls, hash_key, range_key=None):
    """The item, or None when it does not exist."""
    try:
        return model_cls.get(hash_key, range_key)
    except DoesNotExist:
        return None
    except (PynamoDBException, BotoCoreError) as error:
        raise StorageUnavailable() from error


def storage_errors(function: Callable) -> Callable:
    """Nothing of PynamoDB or botocore goes above storage: their failures become
    `StorageUnavailable` (the primitives here translate their own; this is for the functions
    that read with PynamoDB directly: queries, batches, transactional reads)."""
    from functools import wraps

    @wraps(function)
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except (PynamoDBException, BotoCoreError) as error:
            raise StorageUnavailable() from error

    return run
