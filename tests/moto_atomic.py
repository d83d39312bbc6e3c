"""DynamoDB applies each write (and each transaction) atomically; moto checks a condition and
writes without a lock, so two threads can both pass the same condition. Concurrency tests take
this fixture to get DynamoDB's guarantee back (not to make anything pass that DynamoDB refuses)."""

import threading
from functools import wraps

import pytest
from moto.dynamodb.models import DynamoDBBackend

_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


@pytest.fixture
def atomic_dynamodb(monkeypatch):
    lock = threading.RLock()
    for name in _WRITES:
        original = getattr(DynamoDBBackend, name)

        def locked(*args, _original=original, **kwargs):
            with lock:
                return _original(*args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, wraps(original)(locked))
