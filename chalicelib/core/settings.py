"""Every setting offboard reads, in one place: no other module reads the environment.

Three groups, by when they are needed:
- `table_settings()` and `event_sources()`: read at import, because PynamoDB binds endpoint and
  table names when a model class is created and Chalice names queues and topics when a handler
  is registered. They need no secret.
- `get_settings()`: everything else, read when first asked for (not at import), because
  `chalice.test.Client` only sets the stage's environment variables while a request runs.
  Secrets come from the environment, or, when `SECRETS_PARAMETER_PATH` is set (production),
  from SSM Parameter Store through powertools Parameters, cached for `SETTINGS_TTL_SECONDS` so
  a rotated key takes effect within minutes without a deploy.

One way per stage for each setting: dev reads everything from `.chalice/config.json`; a deployed
stage reads the secrets (`SECRET_NAMES`) from SSM and everything else from its environment,
which the stack sets from its parameters (`PublicBaseUrl`, `SunsetEmailFrom`, ...; docs/deploy.md,
"Where each setting lives") and from `.chalice/config.json`.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass


class ConfigurationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Tables:
    endpoint: str | None
    region: str
    lists: str
    subscribers: str
    offers: str


# What SES publishes to EventBridge about email (its other events, such as sending-status
# changes and advisor recommendations, are not email events and would be counted as malformed).
SES_EMAIL_DETAIL_TYPES = (
    "Email Sent",
    "Email Delivered",
    "Email Opened",
    "Email Clicked",
    "Email Bounced",
    "Email Complaint Received",
    "Email Rejected",
    "Email Rendering Failed",
    "Email Delivery Delayed",
    "Email Subscribed",
)


@dataclass(frozen=True)
class EventSources:
    ses_events_topic: str
    sunset_queue: str
    unsubscribe_queue: str
    mail_received_topic: str
    sms_inbound_topic: str
    cancel_webhook_queue: str

    @property
    def ses_email_events(self) -> dict:
        """The EventBridge pattern of the SES events rule: email events only."""
        return {"source": ["aws.ses"], "detail-type": list(SES_EMAIL_DETAIL_TYPES)}


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    dynamodb_endpoint: str | None
    public_base_url: str
    unsubscribe_mailto: str | None
    signing_key_id: str
    signing_keys: dict[str, bytes]
    subscriber_id_key: bytes
    ip_hash_key: bytes
    admin_api_keys: tuple[str, ...]
    webhook_secret: str | None
    # Other AWS services: endpoints (local servers), queues, SES identities.
    sqs_endpoint: str | None = None
    ses_endpoint: str | None = None
    unsubscribe_queue_url: str | None = None
    sunset_queue_url: str | None = None
    cancel_webhook_queue_url: str | None = None
    cancel_webhook_dead_letter_url: str | None = None
    offer_email_from: str | None = None
    sunset_email_from: str | None = None
    ses_configuration_set: str | None = None
    # Exit-intent limits (per container windows; the per-IP issue limit is enforced in storage).
    offer_issues_per_ip_per_minute: int = 30
    offer_decisions_per_visitor_per_minute: int = 20
    offer_decisions_per_ip_per_minute: int = 600
    offer_emails_per_code: int = 3
    offer_emails_per_ip_per_hour: int = 10
    offer_emails_per_site_per_hour: int = 500
    offer_events_per_ip_per_minute: int = 120
    demo_pages: bool = False
    # SMS: the region a number without a country code is read in (ISO 3166 alpha-2, e.g. TH).
    sms_default_region: str | None = None

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


def _sender(env: dict, name: str, required: bool) -> str | None:
    """A From address (`a@b.example` or `Name <a@b.example>`), or None when unset and optional.

    Outside the dev stage a required sender has no default: mail from an example domain would
    bounce or land in spam, and the deploy sets it (stack parameter, docs/deploy.md step 4)."""
    from email.utils import parseaddr

    value = (env.get(name) or "").strip()
    if not value:
        if required:
            raise ConfigurationError(f"{name} must be set outside the dev stage (a verified SES identity)")
        return None
    _, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or "." not in domain:
        raise ConfigurationError(f"{name} must be an email address, not {value!r}")
    return value


def _positive(env: dict, name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ConfigurationError(f"{name} must be a whole number") from error
    if value <= 0:
        raise ConfigurationError(f"{name} must be above 0")
    return value


_cached: tuple[float, Settings] | None = None


def get_settings() -> Settings:
    global _cached
    if _cached is None or time.monotonic() - _cached[0] > SETTINGS_TTL_SECONDS:
        _cached = (time.monotonic(), _build(_values()))
    return _cached[1]


def forget_settings() -> None:
    global _cached
    _cached = None


def settings_from(values: dict[str, str]) -> Settings:
    """The settings `values` make, checked as every function checks them: raises
    ConfigurationError naming what is wrong (the operator CLI's `doctor` asks before deploy)."""
    return _build(values)


def _build(env: dict[str, str]) -> Settings:
    tables = table_settings()
    keys = _decode_keys(env.get("SIGNING_KEYS", ""))
    current = env.get("SIGNING_KEY_ID", "")
    if current not in keys:
        raise ConfigurationError("SIGNING_KEY_ID must name one of SIGNING_KEYS")
    stage = env.get("OFFBOARD_STAGE", "dev")
    base_url = env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    if stage != "dev" and not base_url.startswith("https://"):
        # RFC 8058: the one-click URI must be https, or providers will not offer one-click.
        raise ConfigurationError(
            "PUBLIC_BASE_URL must be an https URL outside the dev stage (stack parameter PublicBaseUrl)"
        )
    return Settings(
        stage=stage,
        region=tables.region,
        dynamodb_endpoint=tables.endpoint,
        public_base_url=base_url,
        unsubscribe_mailto=env.get("UNSUBSCRIBE_MAILTO") or None,
        signing_key_id=current,
        signing_keys=keys,
        subscriber_id_key=_secret(env, "SUBSCRIBER_ID_KEY"),
        ip_hash_key=_secret(env, "IP_HASH_KEY"),
        admin_api_keys=tuple(k for k in env.get("ADMIN_API_KEYS", "").split(",") if k),
        webhook_secret=env.get("WEBHOOK_SECRET") or None,
        sqs_endpoint=env.get("SQS_ENDPOINT") or None,
        ses_endpoint=env.get("SES_ENDPOINT") or None,
        unsubscribe_queue_url=env.get("UNSUBSCRIBE_QUEUE_URL") or None,
        sunset_queue_url=env.get("SUNSET_QUEUE_URL") or None,
        cancel_webhook_queue_url=env.get("CANCEL_WEBHOOK_QUEUE_URL") or None,
        cancel_webhook_dead_letter_url=env.get("CANCEL_WEBHOOK_DEAD_LETTER_QUEUE_URL") or None,
        offer_email_from=_sender(env, "OFFER_EMAIL_FROM", required=False),
        sunset_email_from=_sender(env, "SUNSET_EMAIL_FROM", required=stage != "dev") or "no-reply@offboard.example",
        ses_configuration_set=env.get("SES_CONFIGURATION_SET") or None,
        offer_issues_per_ip_per_minute=_positive(env, "OFFER_ISSUES_PER_IP_PER_MINUTE", 30),
        offer_decisions_per_visitor_per_minute=_positive(env, "OFFER_DECISIONS_PER_VISITOR_PER_MINUTE", 20),
        offer_decisions_per_ip_per_minute=_positive(env, "OFFER_DECISIONS_PER_IP_PER_MINUTE", 600),
        offer_emails_per_code=_positive(env, "OFFER_EMAILS_PER_CODE", 3),
        offer_emails_per_ip_per_hour=_positive(env, "OFFER_EMAILS_PER_IP_PER_HOUR", 10),
        offer_emails_per_site_per_hour=_positive(env, "OFFER_EMAILS_PER_SITE_PER_HOUR", 500),
        offer_events_per_ip_per_minute=_positive(env, "OFFER_EVENTS_PER_IP_PER_MINUTE", 120),
        demo_pages=env.get("DEMO_PAGES") == "1",
        sms_default_region=(env.get("SMS_DEFAULT_REGION") or "").strip().upper() or None,
    )


def table_settings() -> Tables:
    """What the PynamoDB models need at import: endpoint, region and table names.

    Kept apart from `get_settings` so that importing a model never needs the secrets.
    """
    env = os.environ
    stage = env.get("OFFBOARD_STAGE", "dev")
    return Tables(
        endpoint=env.get("DYNAMODB_ENDPOINT") or None,
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        lists=env.get("LISTS_TABLE", f"offboard-{stage}-lists"),
        subscribers=env.get("SUBSCRIBERS_TABLE", f"offboard-{stage}-subscribers"),
        offers=env.get("OFFERS_TABLE", f"offboard-{stage}-offers"),
    )


def client_read_timeout() -> float:
    """Seconds each AWS call waits for an answer before it is retried (`core.aws`), read at
    import because PynamoDB binds it when a model class is created. The default (3 s) fits API
    Gateway's 29 s with the retries; a test that stalls a local server on purpose sets
    `OFFBOARD_AWS_READ_TIMEOUT_SECONDS` lower, so that it waits seconds for the budget to run out."""
    raw = os.environ.get("OFFBOARD_AWS_READ_TIMEOUT_SECONDS") or "3"
    try:
        seconds = float(raw)
    except ValueError as error:
        raise ConfigurationError("OFFBOARD_AWS_READ_TIMEOUT_SECONDS must be a number of seconds") from error
    if not 0 < seconds <= 3:
        raise ConfigurationError("OFFBOARD_AWS_READ_TIMEOUT_SECONDS must be above 0 and at most 3")
    return seconds


def event_sources() -> EventSources:
    """The topics and queues the event handlers subscribe to (names, fixed at deploy time).

    Named per stage, as the tables are, so that dev and prod can share an account and region:
    `chalice package --stage S` imports the app with the stage's `OFFBOARD_STAGE`, and
    infra/resources.yaml names the same resources `offboard-${Stage}-...`."""
    env = os.environ
    prefix = f"offboard-{env.get('OFFBOARD_STAGE', 'dev')}"
    return EventSources(
        ses_events_topic=env.get("SES_EVENTS_TOPIC", f"{prefix}-ses-events"),
        sunset_queue=env.get("SUNSET_QUEUE_NAME", f"{prefix}-sunset"),
        unsubscribe_queue=env.get("UNSUBSCRIBE_QUEUE_NAME", f"{prefix}-unsubscribes"),
        mail_received_topic=env.get("MAIL_RECEIVED_TOPIC", f"{prefix}-mail-received"),
        sms_inbound_topic=env.get("SMS_INBOUND_TOPIC", f"{prefix}-sms-inbound"),
        cancel_webhook_queue=env.get("CANCEL_WEBHOOK_QUEUE_NAME", f"{prefix}-cancel-webhooks"),
    )


def observability_settings() -> tuple[str, bool]:
    """(metrics namespace, whether the X-Ray SDK tracer is on); read at import by observability.
    The namespace is per stage (`Offboard/<stage>`), so dev and prod in one account never add up."""
    env = os.environ
    namespace = env.get("POWERTOOLS_METRICS_NAMESPACE") or f"Offboard/{env.get('OFFBOARD_STAGE', 'dev')}"
    return namespace, env.get("OFFBOARD_TRACING") == "on"
