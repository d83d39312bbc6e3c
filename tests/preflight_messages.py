"""Messages signed with a real DKIM key (dkimpy, a fresh RSA key) for the preflight tests."""

from __future__ import annotations

import base64
from functools import cache

SELECTOR = b"s1"
UNSUBSCRIBE = (b"List-Unsubscribe", b"List-Unsubscribe-Post")
SIGNED = (b"From", b"To", b"Subject", *UNSUBSCRIBE)


@cache
def rsa_key(name: str = "signer") -> tuple[bytes, str]:
    """(private key PEM, public key as its DNS TXT value); one key per name."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


def public_pem() -> str:
    record = rsa_key()[1]
    body = record.split("p=", 1)[1]
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN PUBLIC KEY-----", *lines, "-----END PUBLIC KEY-----"]) + "\n"


def compose(headers: list[tuple[str, str]], body: str = "Hello,\r\n\r\nthe weekly news.\r\n") -> bytes:
    lines = [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def sign(message: bytes, domain: str = "example.com", signed=SIGNED, private: bytes | None = None) -> bytes:
    import dkim

    key = private or rsa_key()[0]
    signature = dkim.sign(message, SELECTOR, domain.encode(), key, include_headers=list(signed))
    return signature + message


def good_headers(unsubscribe: dict[str, str], to: str = "alice@example.com") -> list[tuple[str, str]]:
    return [
        ("From", "The Weekly <news@example.com>"),
        ("To", to),
        ("Subject", "This week"),
        ("List-Unsubscribe", unsubscribe["List-Unsubscribe"]),
        ("List-Unsubscribe-Post", unsubscribe["List-Unsubscribe-Post"]),
    ]
