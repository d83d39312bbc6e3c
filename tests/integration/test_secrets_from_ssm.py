"""Production reads its secrets from SSM Parameter Store (powertools Parameters, cached), so a
signing key is rotated without a deploy: new links use the new key, old links keep working."""

import base64

import boto3
import pytest

from chalicelib.core import settings
from chalicelib.unsubscribe import tokens

OLD, NEW = base64.b64encode(b"o" * 32).decode(), base64.b64encode(b"n" * 32).decode()


@pytest.fixture
def ssm(aws, monkeypatch):
    client = boto3.client("ssm", region_name="us-east-1")
    for name, value in {
        "SIGNING_KEYS": f"k1:{OLD}",
        "SIGNING_KEY_ID": "k1",
        "SUBSCRIBER_ID_KEY": "ssm-subscriber-id-key-0123456789",
        "IP_HASH_KEY": "ssm-ip-hash-key-0123456789",
        "ADMIN_API_KEYS": "ssm-admin-key",
    }.items():
        client.put_parameter(Name=f"/offboard/test/{name}", Value=value, Type="SecureString", Overwrite=True)
    for name in ("SIGNING_KEYS", "SIGNING_KEY_ID", "SUBSCRIBER_ID_KEY", "IP_HASH_KEY", "ADMIN_API_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRETS_PARAMETER_PATH", "/offboard/test")
    return client


def test_secrets_come_from_ssm_and_a_rotation_applies_without_a_deploy(ssm, monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    first = settings.get_settings()
    assert first.admin_api_keys == ("ssm-admin-key",) and first.signing_key_id == "k1"
    old_link = tokens.sign(first.signing_keys, "k1", "sabc", "newsletter")

    ssm.put_parameter(
        Name="/offboard/test/SIGNING_KEYS", Value=f"k2:{NEW},k1:{OLD}", Type="SecureString", Overwrite=True
    )
    ssm.put_parameter(Name="/offboard/test/SIGNING_KEY_ID", Value="k2", Type="SecureString", Overwrite=True)
    assert settings.get_settings().signing_key_id == "k1"  # cached for SETTINGS_TTL_SECONDS

    monkeypatch.setattr(settings, "SETTINGS_TTL_SECONDS", 0)
    parameters.clear_caches()  # as if the cache's max_age had passed
    rotated = settings.get_settings()
    assert rotated.signing_key_id == "k2"
    assert tokens.sign(rotated.signing_keys, rotated.signing_key_id, "sabc", "newsletter").startswith("k2.")
    assert tokens.verify(rotated.signing_keys, old_link).key_id == "k1"
