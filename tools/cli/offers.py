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


@click.command("sites")
@click.option("--after", help="the last site key of the previous page")
@click.option("--limit", type=int, default=50, show_default=True)
def all_sites(after, limit) -> None:
    """Sites, a page at a time (`next` is the --after of the next page); never their secrets."""
    from chalicelib.offers import admin

    emit(admin.all_sites(after, limit))


@click.command("show-site")
@click.argument("site_key")
def show_site(site_key) -> None:
    """A site: name, allowed origins, its campaigns' ids."""
    from chalicelib.offers import admin

    emit(admin.get_site(site_key))


@click.command("edit-site")
@click.argument("site_key")
@click.option("--name")
@click.option("--origin", "origins", multiple=True, help="an allowed origin (repeat; replaces the list)")
def edit_site(site_key, name, origins) -> None:
    """Change a site's name or allowed origins; checked as create-site checks a new one."""
    from chalicelib.offers import admin

    body = {**({"name": name} if name is not None else {}), **({"allowed_origins": list(origins)} if origins else {})}
    emit(admin.update_site(site_key, body))


@click.command("campaigns")
@click.argument("site_key")
@click.option("--after", help="the last campaign id of the previous page")
@click.option("--limit", type=int, default=50, show_default=True)
def all_campaigns(site_key, after, limit) -> None:
    """A site's campaigns, a page at a time."""
    from chalicelib.offers import admin

    emit(admin.all_campaigns(site_key, after, limit))


@click.command("show-campaign")
@click.argument("site_key")
@click.argument("campaign_id")
def show_campaign(site_key, campaign_id) -> None:
    """A campaign as configured."""
    from chalicelib.offers import admin

    emit(admin.get_campaign(site_key, campaign_id))


@click.command("edit-campaign")
@click.argument("site_key")
@click.argument("campaign_id")
@click.argument("changes")
def edit_campaign(site_key, campaign_id, changes) -> None:
    """Change some fields of a campaign: CHANGES is a JSON object (or a file holding one), each
    field replacing the stored one whole, null removing it; checked as put-campaign checks."""
    from chalicelib.core.errors import Invalid
    from chalicelib.offers import admin

    text = Path(changes).read_text() if not changes.lstrip().startswith("{") and Path(changes).is_file() else changes
    try:
        body = json.loads(text)
    except ValueError as error:
        raise Invalid("bad_campaign", f"the changes are not JSON: {error}") from error
    emit(admin.update_campaign(site_key, campaign_id, body))


COMMANDS = (
    create_site,
    put_campaign,
    kill,
    report,
    validate,
    redeem,
    all_sites,
    show_site,
    edit_site,
    all_campaigns,
    show_campaign,
    edit_campaign,
)
