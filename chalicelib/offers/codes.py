"""Coupon codes people can read aloud at a till: unguessable, with no look-alike characters."""

from __future__ import annotations

import re
import secrets
import unicodedata

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
GROUPS, GROUP_LENGTH = 2, 5  # 31^10 ≈ 8e14 codes
_CODE = re.compile(rf"^[{ALPHABET}]{{{GROUP_LENGTH}}}(-[{ALPHABET}]{{{GROUP_LENGTH}}}){{{GROUPS - 1}}}$")


def new_code() -> str:
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))


def normalize_code(typed: str | None) -> str | None:
    """What a cashier or caller types: any case, spaces or no dash, O for 0 and I/L for 1 never
    occur; full-width letters and digits (a Japanese or Chinese keyboard's) and any dash (en dash,
    minus sign, a phone's autocorrected hyphen) read as their ASCII forms."""
    if typed is None or len(typed) > 40:
        return None
    typed = unicodedata.normalize("NFKC", typed)
    compact = "".join(c for c in typed if not c.isspace() and unicodedata.category(c) != "Pd" and c != "\u2212")
    compact = compact.upper()
    code = "-".join(compact[i : i + GROUP_LENGTH] for i in range(0, len(compact), GROUP_LENGTH))
    return code if _CODE.match(code) else None
