"""A way out for a broken or cut link: a person gives their address and, if it gets any of our
lists, is mailed fresh signed unsubscribe links. The answer is the same whether or not the address
is known (no enumeration), and requests are rate limited per client and per address."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from html import escape

from chalicelib.core.errors import Invalid, TooMany
from chalicelib.core.ids import InvalidEmail, hash_ip, normalize_email, subscriber_id_for
from chalicelib.core.observability import count, logger
from chalicelib.core.settings import get_settings
from chalicelib.domain import consent
from chalicelib.offers.limits import SlidingWindow

# Per container, so approximate across Lambda containers: enough to stop one client from
# mailing an address again and again, and one client from trying many addresses.
PER_CLIENT = SlidingWindow(limit=5, seconds=3600)
PER_ADDRESS = SlidingWindow(limit=1, seconds=900)
MAX_ADDRESS = 254


@dataclass(frozen=True)
class LinkRequested:
    """The one answer: the request was taken (whether or not a message went out)."""


def request_links(address: str | None, client_ip: str | None, language: str = "en") -> LinkRequested:
    """Mail fresh unsubscribe links for every list the address still gets, at most once per
    address per quarter hour; a client asking too often is refused (TooMany)."""
    settings = get_settings()
    try:
        email = normalize_email(address if isinstance(address, str) and len(address) <= MAX_ADDRESS else "")
    except InvalidEmail as error:
        raise Invalid("bad_email", "enter the address the emails come to") from error
    if not PER_CLIENT.allow(hash_ip(settings.ip_hash_key, client_ip) or "unknown"):
        count("RejectedInputs", kind="link_request_rate")
        raise TooMany("too_many_requests", "too many requests; try again later")
    subscriber_id = subscriber_id_for(settings.subscriber_id_key, email)
    if not PER_ADDRESS.allow(subscriber_id):
        return LinkRequested()  # a repeat within the window: the same answer, no second email
    receiving = _receiving_lists(subscriber_id)
    if receiving:
        try:
            _send(email, subscriber_id, receiving, language)
            count("UnsubscribeLinksMailed")
        except Exception:  # the answer stays the same: a different one would tell the address is known
            logger.exception("the unsubscribe-link email could not be sent")
    return LinkRequested()


def _receiving_lists(subscriber_id: str) -> list[str]:
    from chalicelib.storage import subscribers

    return sorted(s.list_id for s in subscribers.subscriptions_of(subscriber_id) if s.status in consent.RECEIVING)


def build_message(email: str, subscriber_id: str, list_ids: list[str], language: str = "en") -> EmailMessage:
    """One message, in the language the form was asked in, with each list's own fresh link (its
    page offers every choice, and "all")."""
    from chalicelib.core import i18n
    from chalicelib.storage import lists
    from chalicelib.unsubscribe.headers import build_headers

    settings = get_settings()
    t = i18n.translator(language)
    links = []
    for list_id in list_ids:
        mailing_list = lists.cached_list(list_id)
        links.append((mailing_list.name if mailing_list else list_id, build_headers(settings, subscriber_id, list_id)))
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    message["From"] = settings.sunset_email_from
    message["To"] = email
    message["Subject"] = t("linkmail.subject")
    for header, value in links[0][1].headers.items():
        message[header] = value
    lines = "".join(f"- {t('linkmail.item', list=name)}: {link.url}\n" for name, link in links)
    message.set_content(f"{t('linkmail.intro')}\n\n{lines}\n{t('linkmail.outro')}\n")
    items = "".join(
        f'<li><a href="{escape(link.url)}">{escape(t("linkmail.item", list=name))}</a></li>' for name, link in links
    )
    message.add_alternative(
        f"<p>{escape(t('linkmail.intro'))}</p><ul>{items}</ul><p>{escape(t('linkmail.outro'))}</p>", subtype="html"
    )
    return message


def _send(email: str, subscriber_id: str, list_ids: list[str], language: str) -> None:
    from chalicelib.core.aws import ses

    message = build_message(email, subscriber_id, list_ids, language)
    arguments = {
        "FromEmailAddress": message["From"],
        "Destination": {"ToAddresses": [email]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
    }
    if get_settings().ses_configuration_set:
        arguments["ConfigurationSetName"] = get_settings().ses_configuration_set
    ses().send_email(**arguments)
