"""A list's branding, checked: a hex accent colour on which the pages' white button text keeps
WCAG 2.2 AA contrast (4.5:1 for normal text), and an https logo."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
BUTTON_TEXT = "#ffffff"  # core/templates/base.html: `.primary { background: var(--accent); color: #fff }`
MIN_CONTRAST = 4.5  # WCAG 2.2 success criterion 1.4.3, normal text


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str) -> float:
    """WCAG's relative luminance of a `#rrggbb` colour (sRGB)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05), the lighter colour's luminance over the darker's."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def darker_with_contrast(color: str, text: str = BUTTON_TEXT, minimum: float = MIN_CONTRAST) -> str:
    """The lightest shade of `color` (its channels scaled down together, so the hue stays) on
    which `text` reaches `minimum`."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(100, -1, -1):
        shade = "#{:02x}{:02x}{:02x}".format(*(round(c * step / 100) for c in (r, g, b)))
        if contrast_ratio(shade, text) >= minimum:
            return shade
    return "#000000"


def check_accent_color(value: str) -> str:
    """The colour, or ValueError saying what is wrong (and, for too little contrast, the ratio
    and a darker shade that passes)."""
    if not HEX_COLOR.match(value):
        raise ValueError("must be a hex colour like #aa3300")
    ratio = contrast_ratio(value, BUTTON_TEXT)
    if ratio < MIN_CONTRAST:
        raise ValueError(
            f"white button text on {value} has a contrast of {ratio:.2f}:1, under the {MIN_CONTRAST}:1 "
            f"WCAG 2.2 AA asks for normal text; try {darker_with_contrast(value)}"
        )
    return value.lower()


def check_logo_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("must be an https URL (a page served over https cannot show an http image)")
    return value
