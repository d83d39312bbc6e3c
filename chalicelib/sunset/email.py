"""The re-permission email of the sunset job: "do you still want these?", with a button to stay
and the RFC 8058 headers to leave."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP
from html import escape

from chalicelib.core.aws import ses
from chalicelib.core.settings import get_settings
from chalicelib.storage import lists
from chalicelib.unsubscribe.headers import build_headers


def build_reminder(subscriber_id: str, address: str, list_id: str) -> EmailMessage:
    settings = get_settings()
    mailing_list = lists.cached_list(list_id)
    name = mailing_list.name if mailing_list else list_id
    built = build_headers(settings, subscriber_id, list_id, "sunset")
    keep_url = built.url + "/keep"
    # No folding or encoded-words: receivers must read the List-Unsubscribe URI as it is.
    message = EmailMessage(policy=SMTP.clone(max_line_length=998))
    message["From"] = settings.sunset_email_from
    message["To"] = address
    message["Subject"] = f"Do you still want {name}?"
    for header, value in built.headers.items():
        message[header] = value
    message.set_content(
        f"We have not seen you open {name} for a while. If you still want it, keep your subscription:\n"
        f"{keep_url}\n\nIf we do not hear from you, we will stop sending it. To stop now: {built.url}\n"
    )
    message.add_alternative(
        f"<p>We have not seen you open <b>{escape(name)}</b> for a while.</p>"
        f'<p><a href="{escape(keep_url)}" style="display:inline-block;padding:12px 20px;background:#1f5fbf;color:#fff;'
        f'border-radius:8px;text-decoration:none">Keep me subscribed</a></p>'
        f"<p>If we do not hear from you, we will stop sending it. "
        f'<a href="{escape(built.url)}">Unsubscribe now</a>.</p>',
        subtype="html",
    )
    return message


def send_reminder(record: dict) -> None:
    message = build_reminder(record["sid"], record["email"], record["list"])
    arguments = {
        "FromEmailAddress": message["From"],
        "Destination": {"ToAddresses": [record["email"]]},
        "Content": {"Raw": {"Data": message.as_bytes()}},
        # Tags come back on SES events: the engagement a click creates finds its subscription.
        "EmailTags": [
            {"Name": "offboard-subscriber", "Value": record["sid"]},
            {"Name": "offboard-list", "Value": record["list"]},
        ],
    }
    if get_settings().ses_configuration_set:
        arguments["ConfigurationSetName"] = get_settings().ses_configuration_set
    ses().send_email(**arguments)
