"""A receiver's check of our webhook signature (core.webhook_signature.verify) answers False,
never raises, whatever the header holds."""

import pytest

from chalicelib.core import webhook_signature


@pytest.mark.parametrize(
    "header",
    ["t=\u00b2,v1=ab", "t=1000,v1=\u00e9", "t=1000,v1=\ud800", "t=" + "9" * 400 + ",v1=00", "", ",,,", "t=,v1="],
)
def test_a_hostile_header_is_refused_not_raised(header):
    assert webhook_signature.verify(["whsec_x"], header, b"{}", now=1000) is False


def test_a_good_header_still_verifies():
    header = webhook_signature.signature_header("whsec_x", b"{}", 1000)
    assert webhook_signature.verify(["whsec_x"], header, b"{}", now=1100) is True
