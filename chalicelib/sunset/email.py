"""The re-permission email of the sunset job: "do you still want these?", one email per person
and run naming every list at stake, with one button that keeps them all, each list's own
unsubscribe link, and the RFC 8058 headers to leave.

RFC 8058 allows one List-Unsubscribe URI: the headers carry the first list's link, and a
one-click POST to it (campaign `sunset`) leaves every list the email named (the job marks them
with the same reminder time); the body carries every list's own link too (whose page also offers
"all our lists"). A list the person neither keeps nor leaves ends at the end of its grace period
anyway; "keep me" after that brings back every list the email named."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from html import escape

from chalicelib.core.aws import ses
from chalicelib.core.settings import get_settings
from chalicelib.storage import lists
from chalicelib.sunset.job import Reminder
from chalicelib.unsubscribe.headers import build_headers
from chalicelib.unsubscribe.tokens import SUNSET_CAMPAIGN


def _name(list_id: str) -> str:
    mailing_list = lists.cached_list(list_id)
    return mailing_list.name if mailing_list else list_id


def _subject(names: list[str]) -> str:
    if len(names) == 1:
        return f"Do you still want {names[0]}?"
    if len(names) <= 3:
        return f"Do you still want {', '.join(names[:-1])} and {names[-1]}?"
    return f"Do you still want these {len(names)} lists?"


def build_reminder(subscriber_id: str, address: str, list_ids: list[str] | str) -> EmailMessage:
    """One email for every list in `list_ids` (the first one's unsubscribe link goes in the headers)."""
    if isinstance(list_ids, str):
        list_ids = [list_ids]
    settings = get_settings()
    names = [_name(list_id) for list_id in list_ids]
    links = [build_headers(settings, subscriber_id, list_id, SUNSET_CAMPAIGN) for list_id in list_ids]
    first = links[0]
    keep_url = first.url + "/keep"  # keeps every list pending for this person
    # No folding or encoded-words: receivers must read the List-Unsubscribe URI as it is.
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    message["From"] = settings.sunset_email_from
    message["To"] = address
    message["Subject"] = _subject(names)
    for header, value in first.headers.items():
        message[header] = value
    if len(names) == 1:
        text = (
            f"We have not seen you open {names[0]} for a while. If you still want it, keep your subscription:\n"
            f"{keep_url}\n\nIf we do not hear from you, we will stop sending it. To stop now: {first.url}\n"
        )
        html = (
            f"<p>We have not seen you open <b>{escape(names[0])}</b> for a while.</p>"
            f'<p><a href="{escape(keep_url)}" style="display:inline-block;padding:12px 20px;background:#1f5fbf;'
            f'color:#fff;border-radius:8px;text-decoration:none">Keep me subscribed</a></p>'
            f"<p>If we do not hear from you, we will stop sending it. "
            f'<a href="{escape(first.url)}">Unsubscribe now</a>.</p>'
        )
    else:
        text = (
            "We have not seen you open these for a while:\n"
            + "".join(f"- {name} (to stop it now: {link.url})\n" for name, link in zip(names, links, strict=True))
            + f"\nIf you still want them, keep all of them with one click:\n{keep_url}\n\n"
            "If we do not hear from you, we will stop sending them. Your mail app's unsubscribe button "
            "stops all of them; the links above stop each list.\n"
        )
        items = "".join(
            f'<li><b>{escape(name)}</b> · <a href="{escape(link.url)}">Unsubscribe from {escape(name)}</a></li>'
            for name, link in zip(names, links, strict=True)
        )
        html = (
            f"<p>We have not seen you open these for a while:</p><ul>{items}</ul>"
            f'<p><a href="{escape(keep_url)}" style="display:inline-block;padding:12px 20px;background:#1f5fbf;'
            f'color:#fff;border-radius:8px;text-decoration:none">Keep me subscribed to all of them</a></p>'
            "<p>If we do not hear from you, we will stop sending them. Your mail app's unsubscribe button "
            "stops all of them; the links above stop each list.</p>"
        )
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_reminder(reminder: Reminder) -> None:
    """One re-permission email through SES, tagged so the engagement it creates finds its subscription."""
    list_ids = list(reminder.lists)
    message = build_reminder(reminder.subscriber_id, reminder.email, list_ids)
    arguments = {
        "FromEmailAddress": message["From"],
        "Destination": {"ToAddresses": [reminder.email]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
        # Tags come back on SES events: the engagement a click creates finds its subscription
        # (the first list's: a tag holds one value; the keep button covers every list).
        "EmailTags": [
            {"Name": "offboard-subscriber", "Value": reminder.subscriber_id},
            {"Name": "offboard-list", "Value": list_ids[0]},
        ],
    }
    if get_settings().ses_configuration_set:
        arguments["ConfigurationSetName"] = get_settings().ses_configuration_set
    ses().send_email(**arguments)
