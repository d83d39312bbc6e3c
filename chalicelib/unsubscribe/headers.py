"""The unsubscribe headers a sender puts on each message (RFC 2369, RFC 8058)."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.settings import Settings
from chalicelib.unsubscribe import tokens

ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass(frozen=True)
class UnsubscribeHeaders:
    url: str
    headers: dict[str, str]

    def as_dict(self) -> dict:
        return {"headers": self.headers, "unsubscribe_url": self.url, "body_link": self.url}


def unsubscribe_url(settings: Settings, subscriber_id: str, list_id: str, campaign_id: str = "") -> str:
    token = tokens.sign(settings.signing_keys, settings.signing_key_id, subscriber_id, list_id, campaign_id)
    return f"{settings.public_base_url}/u/{token}"


def build_headers(settings: Settings, subscriber_id: str, list_id: str, campaign_id: str = "") -> UnsubscribeHeaders:
    """Exactly one List-Unsubscribe with one https URI (a mailto may follow) and exactly one
    List-Unsubscribe-Post. Both must be covered by the sender's DKIM signature."""
    url = unsubscribe_url(settings, subscriber_id, list_id, campaign_id)
    value = f"<{url}>"
    if settings.unsubscribe_mailto:
        value += f", <{mailto_uri(settings, subscriber_id, list_id, campaign_id)}>"
    return UnsubscribeHeaders(url, {"List-Unsubscribe": value, "List-Unsubscribe-Post": ONE_CLICK})


MAX_LOCAL_PART = 64  # octets (RFC 5321 4.5.3.1.1)


def mailto_uri(settings: Settings, subscriber_id: str, list_id: str, campaign_id: str = "") -> str:
    """The mailto that unsubscribes this recipient from this list when a mail reaches it
    (docs/mail-and-sms.md): the compact signed token as a subaddress,
    `unsubscribe+<kid>.<subscriber>.<signature>@domain`, when the local part stays within 64
    octets; otherwise the plain address with the full token in the subject."""
    from urllib.parse import quote

    local, _, domain = settings.unsubscribe_mailto.rpartition("@")
    compact = tokens.sign_mailto(settings.signing_keys, settings.signing_key_id, subscriber_id, list_id)
    if compact and "+" not in local and len(f"{local}+{compact}".encode()) <= MAX_LOCAL_PART:
        return f"mailto:{local}+{compact}@{domain}?subject=unsubscribe"
    token = tokens.sign(settings.signing_keys, settings.signing_key_id, subscriber_id, list_id, campaign_id)
    return f"mailto:{settings.unsubscribe_mailto}?subject={quote('unsubscribe ' + token, safe='')}"


def page_url(settings: Settings, raw_token: str, suffix: str = "", event: str | None = None, **extra: str) -> str:
    """A page of the unsubscribe flow for this link: `/u/<token><suffix>?event=...`."""
    from urllib.parse import quote

    path = f"{settings.public_base_url}/u/{raw_token}{suffix}"
    query = ([f"event={quote(event, safe='')}"] if event else []) + [f"{k}={v}" for k, v in extra.items()]
    return path + ("?" + "&".join(query) if query else "")
