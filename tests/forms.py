"""Request bodies as mailbox providers build them, shared by the tests."""

YAHOO_BOUNDARY = "----=_Part_12345_67890.1700000000000"


def multipart(fields: dict, boundary: str = YAHOO_BOUNDARY) -> bytes:
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode()
