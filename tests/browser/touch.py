"""Real touch gestures in Chromium (CDP touch events, the way a finger scrolls a phone page): the
snippet's exit intent on a phone is a fast scroll back up after reading down."""

from __future__ import annotations


def swipe(page, from_y: float, to_y: float, steps: int, x: float = 200) -> None:
    """A finger from `from_y` to `to_y` in `steps` moves (fewer steps: a faster flick)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": from_y}]})
        for step in range(1, steps + 1):
            y = from_y + (to_y - from_y) * step / steps
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        cdp.detach()


def read_down_then_flick_up(page) -> None:
    """Scroll down through the page by touch, pause, then flick quickly back towards the top."""
    for _ in range(3):
        swipe(page, 700, 100, 10)
        page.wait_for_timeout(150)
    page.wait_for_timeout(300)
    swipe(page, 100, 800, 4)
