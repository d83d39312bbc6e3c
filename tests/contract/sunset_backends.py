"""The sunset storage contract's two backends: the in-memory store and moto's DynamoDB, selected
for the job with `storage.store.use`, and a list made the way each holds lists."""

import pytest

from chalicelib.storage import lists, store
from chalicelib.storage.memory import MemorySunsetStore

BACKENDS = ["memory", "moto"]


def dynamodb_stores():
    from chalicelib.storage import subscribers, sunset_dynamodb

    return subscribers.DYNAMODB, sunset_dynamodb.DYNAMODB


@pytest.fixture(params=BACKENDS)
def sunset_store(request):
    """The selected sunset store (its consent store with it). Lists and their policies live in
    moto on both: the job reads a list's policy, which no store here holds."""
    request.getfixturevalue("aws")
    if request.param == "moto":
        consent, chosen = dynamodb_stores()
    else:
        chosen = MemorySunsetStore()
        consent = chosen.consent
    with store.use(consent=consent, sunset=chosen):
        yield chosen


def create_list(list_id: str, name: str, sunset: dict | None = None) -> None:
    """The list and its policy in the lists table; the memory consent store learns of it too."""
    lists.create_list(list_id, name, sunset=sunset)
    chosen = store.consent_store()
    if isinstance(store.sunset_store(), MemorySunsetStore):
        chosen.add_list(list_id, name)
