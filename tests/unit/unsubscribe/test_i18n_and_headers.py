import pytest

from chalicelib.core import i18n
from chalicelib.core.settings import Settings
from chalicelib.unsubscribe.headers import ONE_CLICK, build_headers


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, "en"),
        ("th-TH,th;q=0.9,en;q=0.8", "th"),
        ("en-US,en;q=0.9,th;q=0.8", "en"),
        ("fr-FR,th;q=0.5", "th"),
        ("de", "en"),
        ("th;q=0, en;q=0.1", "en"),
        ("th;q=bogus", "en"),
    ],
)
def test_the_reader_gets_the_best_supported_language(header, expected):
    assert i18n.negotiate(header) == expected


def test_every_text_exists_in_every_language():
    assert set(i18n.MESSAGES["th"]) == set(i18n.MESSAGES["en"])


def make_settings(mailto=None) -> Settings:
    return Settings(
        stage="test",
        region="us-east-1",
        dynamodb_endpoint=None,
        public_base_url="https://unsub.example.com",
        unsubscribe_mailto=mailto,
        signing_key_id="k2",
        signing_keys={"k1": b"1" * 32, "k2": b"2" * 32},
        subscriber_id_key=b"i" * 32,
        ip_hash_key=b"h" * 32,
        admin_api_keys=(),
        webhook_secret=None,
    )


def test_headers_hold_one_https_uri_and_the_one_click_post_header():
    built = build_headers(make_settings(), "sabc", "newsletter", "spring")
    assert built.headers["List-Unsubscribe-Post"] == ONE_CLICK == "List-Unsubscribe=One-Click"
    value = built.headers["List-Unsubscribe"]
    assert value == f"<{built.url}>" and value.count("<") == 1
    assert built.url.startswith("https://unsub.example.com/u/k2.sabc.newsletter.spring.")


def test_a_mailto_may_follow_the_https_uri():
    value = build_headers(make_settings("unsub@example.com"), "sabc", "newsletter").headers["List-Unsubscribe"]
    https, mailto = value.split(", ")
    assert https.startswith("<https://") and mailto.startswith("<mailto:unsub@example.com")


def test_new_links_are_signed_with_the_current_key():
    assert "/u/k2." in build_headers(make_settings(), "sabc", "newsletter").url


def test_outside_dev_the_unsubscribe_origin_must_be_https(monkeypatch):
    from chalicelib.core.settings import ConfigurationError, forget_settings, get_settings

    monkeypatch.setenv("OFFBOARD_STAGE", "prod")
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://unsub.example.com")
    forget_settings()
    try:
        with pytest.raises(ConfigurationError, match="https"):
            get_settings()
        monkeypatch.setenv("PUBLIC_BASE_URL", "https://unsub.example.com")
        forget_settings()
        assert get_settings().public_base_url == "https://unsub.example.com"
    finally:
        forget_settings()
