"""Every PynamoDB model class reads DynamoDB's service description once per process, not once per
class (storage.connection shares botocore's loader between the sessions PynamoDB makes)."""

import botocore.session
from pynamodb.connection import base as pynamodb_base

from chalicelib.storage import connection
from chalicelib.storage.lists import MailingList
from chalicelib.storage.offers import _OffersPartition
from chalicelib.storage.subscribers.models import SubscriberPartition


def test_pynamodb_makes_its_sessions_with_the_shared_loader():
    assert pynamodb_base.get_session is connection._session_with_the_shared_loader, (
        "PynamoDB no longer takes get_session from botocore.session: storage.connection shares nothing"
    )
    assert botocore.session.get_session is not connection._session_with_the_shared_loader  # botocore's own is untouched


def test_the_model_classes_connections_share_one_loader_and_keep_their_own_sessions(aws):
    sessions = [
        model._get_connection().connection.session for model in (MailingList, _OffersPartition, SubscriberPartition)
    ]
    assert len({id(s) for s in sessions}) == 3  # PynamoDB's sessions stay its own
    loaders = {id(s.get_component("data_loader")) for s in sessions}
    assert loaders == {id(connection._LOADER)}
    # And they work: a call through each model's connection reaches the (moto) table.
    assert MailingList.count() == 0 and SubscriberPartition.count() == 0
