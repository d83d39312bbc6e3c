"""Commands for exit-intent offers: sites, campaigns, the kill switch, reports, codes."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tools.cli.output import emit


@click.command("create-site")
@click.argument("site_key")
@click.argument("name")
@click.argument("origins", nargs=-1, required=True)
def create_site(site_key, name, origins) -> None:
    """A site for exit-intent offers, with the origins its pages are served from."""
    from chalicelib.offers import admin

    emit(admin.create_site(site_key, name, list(origins)))


@click.command("put-campaign")
@click.argument("site_key")
@click.argument("campaign_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def put_campaign(site_key, campaign_id, file) -> None:
    """Create or replace a campaign from a JSON file."""
    from chalicelib.core.errors import Invalid
    from chalicelib.offers import admin

    try:
        body = json.loads(Path(file).read_text())
    except ValueError as error:
        raise Invalid("bad_campaign", f"{file} is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise Invalid("bad_campaign", f"{file} must hold a JSON object")
    emit(admin.put_campaign(site_key, campaign_id, body))


@click.command("kill")
@click.argument("site_key")
@click.argument("campaign_id")
@click.option("--enable", is_flag=True, help="restart the campaign instead")
def kill(site_key, campaign_id, enable) -> None:
    """The kill switch: stop a campaign (--enable to restart it)."""
    from chalicelib.offers import admin

    emit(admin.set_enabled(site_key, campaign_id, enable))


@click.command("report")
@click.argument("site_key")
@click.argument("campaign_id")
def report(site_key, campaign_id) -> None:
    """A campaign's performance per variant, and lift against the holdout."""
    from chalicelib.offers import admin

    emit(admin.campaign_report(site_key, campaign_id))


@click.command("validate")
@click.argument("code")
def validate(code) -> None:
    """Is this code valid now, for what, until when."""
    from chalicelib.offers.routes import code_body
    from chalicelib.offers.service import describe_code

    emit(code_body(describe_code(code)))


@click.command("redeem")
@click.argument("code")
@click.argument("order_ref")
@click.option("--channel", default="store", type=click.Choice(["web", "store", "phone", "app"]), show_default=True)
@click.option("--order-value", type=float, help="the order's value (campaigns with a minimum order)")
@click.option("--currency", help="the order's currency, e.g. USD")
@click.option("--store", "store_id", help="the store's id (campaigns limited to some stores)")
@click.option("--customer", "customer_id", help="the shop's customer id (campaigns limited per customer; hashed)")
@click.option("--first-order", is_flag=True, help="this is the customer's first order")
def redeem(code, order_ref, channel, order_value, currency, store_id, customer_id, first_order) -> None:
    """Redeem a code exactly once for an order (exit code 1 when it was not redeemed now or before for this order)."""
    from chalicelib.offers.routes import parse_till_request, till_answer
    from chalicelib.offers.service import redeem_code

    till = {"order_ref": order_ref, "channel": channel, "order_value": order_value, "currency": currency}
    status, body = till_answer(
        redeem_code(
            code,
            parse_till_request(
                {**till, "store_id": store_id, "customer_id": customer_id, "first_order": True if first_order else None}
            ),
        )
    )
    emit(body)
    if status >= 400:
        raise SystemExit(1)


COMMANDS = (create_site, put_campaign, kill, report, validate, redeem)
