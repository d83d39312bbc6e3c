"""schemathesis hooks for tests/e2e/test_fuzz_openapi.py: media types it has no serializer for.

The senders' preflight takes `message/rfc822`: generated bodies go on the wire as bytes."""

import schemathesis

schemathesis.serializer.alias("message/rfc822", "application/octet-stream")
