"""Settings a deployed stage must have (issue 17, part 1): no example sender outside dev, senders
that are addresses, and event sources named per stage like the tables."""

import base64

import pytest

from chalicelib.core.settings import ConfigurationError, event_sources, settings_from

SECRETS = {
    "SIGNING_KEYS": "k1:" + base64.b64encode(b"k" * 32).decode(),
    "SIGNING_KEY_ID": "k1",
    "SUBSCRIBER_ID_KEY": "s" * 32,
    "IP_HASH_KEY": "i" * 32,
}
PROD = {**SECRETS, "OFFBOARD_STAGE": "prod", "PUBLIC_BASE_URL": "https://unsubscribe.example.com/"}


def test_a_deployed_stage_names_its_senders_and_never_falls_back_to_an_example_address():
    with pytest.raises(ConfigurationError, match="SUNSET_EMAIL_FROM must be set outside the dev stage"):
        settings_from(PROD)
    settings = settings_from({**PROD, "SUNSET_EMAIL_FROM": "News <news@example.com>"})
    assert settings.sunset_email_from == "News <news@example.com>" and settings.offer_email_from is None
    assert settings.public_base_url == "https://unsubscribe.example.com"
    assert settings_from({**SECRETS, "OFFBOARD_STAGE": "dev"}).sunset_email_from == "no-reply@offboard.example"


@pytest.mark.parametrize("name", ["SUNSET_EMAIL_FROM", "OFFER_EMAIL_FROM"])
@pytest.mark.parametrize("value", ["newsletter", "news@localhost", "@example.com"])
def test_a_sender_must_be_an_address(name, value):
    with pytest.raises(ConfigurationError, match=f"{name} must be an email address"):
        settings_from({**PROD, "SUNSET_EMAIL_FROM": "news@example.com", name: value})


def test_the_base_url_outside_dev_is_https_and_names_the_stack_parameter():
    with pytest.raises(ConfigurationError, match="PublicBaseUrl"):
        settings_from({**PROD, "SUNSET_EMAIL_FROM": "news@example.com", "PUBLIC_BASE_URL": "http://x.example"})


def test_queues_and_topics_are_named_per_stage(monkeypatch):
    monkeypatch.setenv("OFFBOARD_STAGE", "prod")
    prod = event_sources()
    monkeypatch.setenv("OFFBOARD_STAGE", "dev")
    dev = event_sources()
    names = ("ses_events_topic", "sunset_queue", "unsubscribe_queue", "mail_received_topic", "sms_inbound_topic")
    assert all(getattr(prod, n).startswith("offboard-prod-") for n in names)
    assert not {getattr(prod, n) for n in names} & {getattr(dev, n) for n in names}
    monkeypatch.setenv("SUNSET_QUEUE_NAME", "mine")
    assert event_sources().sunset_queue == "mine"  # an explicit name still wins


def test_the_aws_read_timeout_is_three_seconds_unless_shortened(monkeypatch):
    """What the local stall test shortens (tests/e2e/test_local_queues.py); never above the 3 s
    that fits API Gateway's 29 s with the retries."""
    from chalicelib.core.settings import client_read_timeout

    monkeypatch.delenv("OFFBOARD_AWS_READ_TIMEOUT_SECONDS", raising=False)
    assert client_read_timeout() == 3
    monkeypatch.setenv("OFFBOARD_AWS_READ_TIMEOUT_SECONDS", "0.5")
    assert client_read_timeout() == 0.5
    for wrong in ("0", "-1", "4", "3.5", "soon", "nan"):
        monkeypatch.setenv("OFFBOARD_AWS_READ_TIMEOUT_SECONDS", wrong)
        with pytest.raises(ConfigurationError, match="OFFBOARD_AWS_READ_TIMEOUT_SECONDS"):
            client_read_timeout()
