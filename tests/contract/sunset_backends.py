"""The sunset storage contract's two backends: the in-memory store and moto's DynamoDB, selected
for the job with `storage.store.use`."""

import pytest

from chalicelib.storage import store
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
