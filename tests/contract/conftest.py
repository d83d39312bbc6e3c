"""The storage contract: each test runs once per backend, the in-memory store and moto's
DynamoDB, selected for the services with `storage.store.use`. The same assertions passing on
both is what shows the in-memory store keeps DynamoDB's promises."""

import pytest

from chalicelib.storage import store

BACKENDS = ["memory", "moto"]


@pytest.fixture(params=BACKENDS)
def consent_store(request):
    if request.param == "moto":
        request.getfixturevalue("aws")
        from chalicelib.storage.subscribers import DYNAMODB

        chosen = DYNAMODB
    else:
        from chalicelib.storage.memory import MemoryConsentStore

        chosen = MemoryConsentStore()
    with store.use(consent=chosen):
        yield chosen


@pytest.fixture(params=BACKENDS)
def coupon_store(request):
    if request.param == "moto":
        request.getfixturevalue("aws")
        from chalicelib.storage.offers import DYNAMODB

        chosen = DYNAMODB
    else:
        from chalicelib.storage.memory import MemoryCouponStore

        chosen = MemoryCouponStore()
    with store.use(coupons=chosen):
        yield chosen
