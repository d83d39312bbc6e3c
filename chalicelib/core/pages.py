"""Server-rendered pages (Jinja2): no JavaScript needed, readable on a phone, branded per list."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from chalicelib.core import i18n

DEFAULT_ACCENT = "#1f5fbf"
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@lru_cache(maxsize=1)
def _environment():
    import jinja2  # imported on first page, not on the one-click path

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def branding_of(mailing_list) -> dict:
    branding = getattr(mailing_list, "branding", None)
    accent = getattr(branding, "accent_color", None) or ""
    logo = getattr(branding, "logo_url", None) or ""
    return {
        "sender": getattr(branding, "sender_name", None),
        "accent": accent if _HEX_COLOR.match(accent) else DEFAULT_ACCENT,
        "logo_url": logo if logo.startswith("https://") else None,
    }


def render(template: str, language: str, mailing_list=None, **values) -> str:
    context = {"lang": language, "t": i18n.translator(language), **branding_of(mailing_list), **values}
    return _environment().get_template(template).render(**context)


def render_plain(template: str, **values) -> str:
    """A template outside the branded, translated pages (the demo shop)."""
    return _environment().get_template(template).render(**values)
