"""Branding checks: WCAG's contrast formula, and the refusals an operator reads."""

import pytest

from chalicelib.domain.branding import (
    check_accent_color,
    check_logo_url,
    contrast_ratio,
    darker_with_contrast,
    relative_luminance,
)


def test_relative_luminance_and_contrast_follow_wcag():
    assert relative_luminance("#000000") == 0 and relative_luminance("#ffffff") == pytest.approx(1)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the known AA grey
    assert contrast_ratio("#ffee00", "#ffffff") == pytest.approx(1.20, abs=0.01)


def test_yellow_under_white_text_is_refused_with_the_ratio_and_a_shade_that_passes():
    with pytest.raises(ValueError) as refused:
        check_accent_color("#ffee00")
    shade = darker_with_contrast("#ffee00")
    assert "contrast of 1.20:1, under the 4.5:1" in str(refused.value) and f"try {shade}" in str(refused.value)
    assert contrast_ratio(shade, "#ffffff") >= 4.5 and check_accent_color(shade) == shade


@pytest.mark.parametrize("value", ["red", "#fff", "#12345g", "aa3300"])
def test_a_colour_that_is_not_hex_is_refused(value):
    with pytest.raises(ValueError, match="hex colour"):
        check_accent_color(value)


def test_a_dark_enough_colour_passes_lowercased():
    assert check_accent_color("#AA3300") == "#aa3300"


@pytest.mark.parametrize("value", ["http://cdn.example/logo.png", "javascript:alert(1)", "https://", "logo.png"])
def test_a_logo_not_on_https_is_refused(value):
    with pytest.raises(ValueError, match="https URL"):
        check_logo_url(value)
