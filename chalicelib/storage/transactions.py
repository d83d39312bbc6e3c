"""Conditional writes: committing them, and reading why one (or a transaction) did not apply."""

from __future__ import annotations

from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite


class TransactionConflict(PynamoDBException):
    """Another transaction touched the same items at the same moment: retry (or answer 503)."""

    msg = "transaction conflict"


def response_code(error: PynamoDBException) -> str | None:
    """The DynamoDB error code behind a PynamoDB error. (PynamoDB's own `cause_response_code`
    raises AttributeError when the cause is a timeout, whose `response` is None.)"""
    response = getattr(error.cause, "response", None) or {}
    return (response.get("Error") or {}).get("Code")


def cancellation_reasons(error: TransactWriteError) -> list:
    return error.cancellation_reasons if response_code(error) == "TransactionCanceledException" else []


def failed_conditions(error: TransactWriteError) -> list[int]:
    """Positions whose condition failed. Re-raises anything that is not a condition failure."""
    reasons = cancellation_reasons(error)
    if any(r is not None and r.code == "TransactionConflict" for r in reasons):
        raise TransactionConflict() from error
    failed = [i for i, r in enumerate(reasons) if r is not None and r.code == "ConditionalCheckFailed"]
    if not failed:
        raise error
    return failed


def update_position(transaction: TransactWrite, nth_update: int) -> int:
    """PynamoDB sends condition checks, deletes, puts, then updates: where the nth update landed."""
    return (
        len(transaction._condition_check_items)
        + len(transaction._delete_items)
        + len(transaction._put_items)
        + nth_update
    )


def commit_unless(transaction: TransactWrite, position: int | None = None) -> bool:
    """Commit; False when the condition at `position` (any condition, if None) failed.
    Anything else is raised."""
    try:
        transaction._commit()
    except TransactWriteError as error:
        failed = failed_conditions(error)
        if position is not None and position not in failed:
            raise
        return False
    return True


def written(write) -> bool:
    """Run one conditional put or update; False when its condition failed, anything else raised."""
    try:
        write()
    except (PutError, UpdateError) as error:
        if response_code(error) == "ConditionalCheckFailedException":
            return False
        raise
    return True
