"""Every setting offboard reads, in one place.

Values are read when first asked for (not at import), because `chalice.test.Client`
only sets the stage's environment variables while a request runs. Secrets come from the
environment, or, when `SECRETS_PARAMETER_PATH` is set (production), from SSM Parameter Store
through powertools Parameters, cached for `SETTINGS_TTL_SECONDS` so a rotated key takes effect
within minutes without a deploy.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    dynamodb_endpoint: str | None
    lists_table: str
    subscribers_table: str
    offers_table: str
    public_base_url: str
    unsubscribe_mailto: str | None
    signing_key_id: str
    signing_keys: dict[str, bytes]
    subscriber_id_key: bytes
    ip_hash_key: bytes
    admin_api_keys: tuple[str, ...]
    webhook_secret: str | None

    @property
    def signing_key(self) -> bytes:
        return self.signing_keys[self.signing_key_id]


def _decode_keys(spec: str) -> dict[str, bytes]:
    """`kid:base64secret,kid2:base64secret` -> {kid: secret}."""
    keys: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, _, secret = part.partition(":")
        if not kid.isalnum() or not secret:
            raise ConfigurationError("SIGNING_KEYS must look like 'kid:base64secret,...'")
        keys[kid] = base64.b64decode(secret)
        if len(keys[kid]) < 32:
            raise ConfigurationError(f"signing key {kid!r} is shorter than 32 bytes")
    return keys


SECRET_NAMES = (
    "SIGNING_KEYS",
    "SIGNING_KEY_ID",
    "SUBSCRIBER_ID_KEY",
    "IP_HASH_KEY",
    "ADMIN_API_KEYS",
    "WEBHOOK_SECRET",
)
SETTINGS_TTL_SECONDS = 300


def _values() -> dict[str, str]:
    values = dict(os.environ)
    path = values.get("SECRETS_PARAMETER_PATH")
    if path:
        from aws_lambda_powertools.utilities import parameters  # production only: boto3 and SSM

        fetched = parameters.get_parameters(path, decrypt=True, max_age=SETTINGS_TTL_SECONDS)
        values.update({name.upper(): value for name, value in fetched.items() if name.upper() in SECRET_NAMES})
    return values


def _secret(env: dict, name: str) -> bytes:
    value = env.get(name, "")
    if len(value) < 16:
        raise ConfigurationError(f"{name} must be set to a secret of at least 16 characters")
    return value.encode()


_cached: tuple[float, Settings] | None = None


def get_settings() -> Settings:
    global _cached
    if _cached is None or time.monotonic() - _cached[0] > SETTINGS_TTL_SECONDS:
        _cached = (time.monotonic(), _build(_values()))
    return _cached[1]


def forget_settings() -> None:
    global _cached
    _cached = None


def _build(env: dict[str, str]) -> Settings:
    endpoint, region, lists_table, subscribers_table, offers_table = table_settings()
    keys = _decode_keys(env.get("SIGNING_KEYS", ""))
    current = env.get("SIGNING_KEY_ID", "")
    if current not in keys:
        raise ConfigurationError("SIGNING_KEY_ID must name one of SIGNING_KEYS")
    base_url = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    if env.get("OFFBOARD_STAGE", "dev") != "dev" and not base_url.startswith("https://"):
        # RFC 8058: the one-click URI must be https, or providers will not offer one-click.
        raise ConfigurationError("PUBLIC_BASE_URL must be an https URL outside the dev stage")
    return Settings(
        stage=env.get("OFFBOARD_STAGE", "dev"),
        region=region,
        dynamodb_endpoint=endpoint,
        lists_table=lists_table,
        subscribers_table=subscribers_table,
        offers_table=offers_table,
        public_base_url=base_url,
        unsubscribe_mailto=env.get("UNSUBSCRIBE_MAILTO") or None,
        signing_key_id=current,
        signing_keys=keys,
        subscriber_id_key=_secret(env, "SUBSCRIBER_ID_KEY"),
        ip_hash_key=_secret(env, "IP_HASH_KEY"),
        admin_api_keys=tuple(k for k in env.get("ADMIN_API_KEYS", "").split(",") if k),
        webhook_secret=env.get("WEBHOOK_SECRET") or None,
    )


def table_settings() -> tuple[str | None, str, str, str, str]:
    """What the PynamoDB models need at import: endpoint, region and table names.

    Kept apart from `get_settings` so that importing a model never needs the secrets.
    """
    env = os.environ
    stage = env.get("OFFBOARD_STAGE", "dev")
    return (
        env.get("DYNAMODB_ENDPOINT") or None,
        env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        env.get("LISTS_TABLE", f"offboard-{stage}-lists"),
        env.get("SUBSCRIBERS_TABLE", f"offboard-{stage}-subscribers"),
        env.get("OFFERS_TABLE", f"offboard-{stage}-offers"),
    )
