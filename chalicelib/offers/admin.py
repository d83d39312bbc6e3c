"""Operators' side of exit-intent offers: sites, campaigns, the kill switch, reports."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from chalicelib.core.errors import Conflict, Invalid, NotFound
from chalicelib.core.forms import page_size
from chalicelib.core.ids import ID_PATTERN
from chalicelib.domain.money import to_decimal
from chalicelib.offers import identity, report, site_cache
from chalicelib.offers.campaigns import build_campaign, parse_campaign
from chalicelib.storage import offers


def _origin(value: str) -> str:
    parts = urlsplit(value)
    if (
        not parts
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path not in ("", "/")
        or parts.query
    ):
        raise Invalid("bad_origin", f"{value!r} is not an origin like https://shop.example.com")
    host = parts.netloc.lower()
    default_port = {"http": ":80", "https": ":443"}[parts.scheme]
    if host.endswith(default_port):
        host = host.removesuffix(default_port)  # browsers send the origin without its default port
    return f"{parts.scheme}://{host}"


def create_site(site_key: str | None, name: str, allowed_origins: list[str]) -> dict:
    """A new site (`contracts.Site` checked the fields); without a key, one is made up."""
    site_key = site_key or f"site_{secrets.token_urlsafe(9)}"
    site_secrets = identity.rotated([])
    try:
        offers.create_site(site_key, name, [_origin(o) for o in allowed_origins], site_secrets)
    except offers.SiteExists as error:
        raise Conflict("site_exists", "a site with this key exists") from error
    origins = [_origin(o) for o in allowed_origins]
    return {"site_key": site_key, "name": name, "allowed_origins": origins, "secret": site_secrets[0]}


def rotate_secret(site_key: str) -> dict:
    """A new identity-verification secret; the previous one stays valid until the next rotation,
    so pages rendered with it keep working while the shop's servers switch."""
    site = _site(site_key)
    site.secrets = identity.rotated(site.secrets)
    _save(site)
    return {"site_key": site.site_key, "secret": site.secrets[0], "secrets_accepted": len(site.secrets)}


def _site(site_key: str):
    site = offers.get_site(site_key) if ID_PATTERN.match(site_key) else None
    if site is None:
        raise NotFound("unknown_site", "no such site")
    return site


def _save(site) -> None:
    if not offers.save_site(site):
        raise Conflict("concurrent_edit", "the site changed while you edited it; try again")
    site_cache.forget(site.site_key)


def put_campaign(site_key: str, campaign_id: str, body: dict) -> dict:
    if body.get("campaign_id", campaign_id) != campaign_id:
        raise Invalid("bad_campaign", "campaign_id in the body differs from the URL")
    campaign = parse_campaign({**body, "campaign_id": campaign_id})
    site = _site(site_key)
    if campaign_id not in site.campaigns and len(site.campaigns) >= 50:
        raise Invalid("too_many_campaigns", "a site holds at most 50 campaigns")
    site.campaigns = {**site.campaigns, campaign_id: campaign.raw}
    _save(site)
    return {"site_key": site_key, "campaign": campaign.raw}


def set_enabled(site_key: str, campaign_id: str, enabled: bool) -> dict:
    """The kill switch: takes effect in every container within the site cache's TTL."""
    site = _site(site_key)
    if campaign_id not in site.campaigns:
        raise NotFound("unknown_campaign", "no such campaign")
    site.campaigns = {**site.campaigns, campaign_id: {**site.campaigns[campaign_id], "enabled": enabled}}
    _save(site)
    return {"site_key": site_key, "campaign_id": campaign_id, "enabled": enabled}


def campaign_report(site_key: str, campaign_id: str) -> dict:
    site = _site(site_key)
    if campaign_id not in site.campaigns:
        raise NotFound("unknown_campaign", "no such campaign")
    campaign = build_campaign({**site.campaigns[campaign_id], "campaign_id": campaign_id})
    currency = campaign.budget_currency or next((v.offer.currency for v in campaign.variants if v.offer.currency), None)
    arms = {}
    for counter in offers.campaign_counters(site_key, campaign_id):
        values = {k: v for k, v in counter.attribute_values.items() if k not in ("pk", "sk", "ttl")}
        for money in ("value_issued", "value_redeemed"):  # counted in minor units; reported as decimals
            if money in values:
                values[money] = float(to_decimal(values[money], currency)) if currency else 0
        arms[counter.sk.removeprefix("ARM#")] = values
    return {"site_key": site_key, "campaign_id": campaign_id, "currency": currency, **report.report(arms)}


def campaign_report_page(site_key: str, campaign_id: str) -> str:
    """The same report as a small page: a server-rendered SVG funnel per arm, no JavaScript."""
    from chalicelib.core.pages import render_plain

    data = campaign_report(site_key, campaign_id)
    return render_plain("offer_report.html", funnel=report.FUNNEL, **data)


# Sites and campaigns read and changed (issue 17.7): a PATCH is checked as a create is.


def _site_view(site) -> dict:
    """A site as operators read it: never its secrets."""
    return {
        "site_key": site.site_key,
        "name": site.name,
        "allowed_origins": list(site.allowed_origins),
        "enabled": site.enabled,
        "campaigns": sorted(site.campaigns),
    }


def get_site(site_key: str) -> dict:
    return _site_view(_site(site_key))


def all_sites(after: str | None = None, limit: str | int | None = None) -> dict:
    if after not in (None, "") and not ID_PATTERN.match(after):
        raise Invalid("bad_page", "after is a site key")
    sites, more = offers.sites_page(after or None, page_size(limit))
    return {"sites": [_site_view(site) for site in sites], "next": more}


def _site_code(field: str) -> str:
    codes = {"site_key": "bad_site", "name": "bad_name", "allowed_origins": "bad_origin", "body": "bad_body"}
    return codes.get(field, "bad_field")


def update_site(site_key: str, body: dict) -> dict:
    """Change a site's name or allowed origins (`contracts.SitePatch`), checked as `contracts.Site`."""
    from chalicelib.core.contracts import patched
    from chalicelib.offers.contracts import Site, SitePatch

    site = _site(site_key)
    current = {"site_key": site.site_key, "name": site.name, "allowed_origins": list(site.allowed_origins)}
    new = Site.model_validate(patched(Site, SitePatch, current, body, _site_code))
    site.name, site.allowed_origins = new.name, [_origin(o) for o in new.allowed_origins]
    _save(site)
    return _site_view(site)


def _campaign_of(site, campaign_id: str) -> dict:
    if campaign_id not in site.campaigns:
        raise NotFound("unknown_campaign", "no such campaign")
    return {**site.campaigns[campaign_id], "campaign_id": campaign_id}


def get_campaign(site_key: str, campaign_id: str) -> dict:
    return {"site_key": site_key, "campaign": _campaign_of(_site(site_key), campaign_id)}


def all_campaigns(site_key: str, after: str | None = None, limit: str | int | None = None) -> dict:
    """A site's campaigns (at most 50) by id, a page at a time."""
    site, size = _site(site_key), page_size(limit)
    ids = [c for c in sorted(site.campaigns) if after in (None, "") or c > after]
    page = ids[:size]
    return {
        "site_key": site.site_key,
        "campaigns": [_campaign_of(site, c) for c in page],
        "next": page[-1] if len(ids) > size else None,
    }


def update_campaign(site_key: str, campaign_id: str, body: dict) -> dict:
    """Change some of a campaign's fields (`contracts.CampaignPatch`; a field sent replaces the
    stored one whole); the result is checked as a PUT is (`parse_campaign`: each field, then the
    rules across fields)."""
    from chalicelib.core.contracts import patched
    from chalicelib.offers.contracts import Campaign, CampaignPatch

    site = _site(site_key)
    current = _campaign_of(site, campaign_id)
    campaign = parse_campaign(patched(Campaign, CampaignPatch, current, body, "bad_campaign"))
    site.campaigns = {**site.campaigns, campaign_id: campaign.raw}
    _save(site)
    return {"site_key": site.site_key, "campaign": {**campaign.raw, "campaign_id": campaign_id}}
