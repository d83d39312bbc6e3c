"""The hosted cancellation pages: the page a session's state calls for, in the session's language."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from chalicelib.cancel import texts, tickets
from chalicelib.cancel.service import LinkRequest, new_link_path, page_path, undo_path
from chalicelib.core.http import HTML_HEADERS
from chalicelib.core.pages import render
from chalicelib.domain.cancel import OfferKind, SaveOffer, Session, Status
from chalicelib.domain.money import to_decimal


def money(minor: int, currency: str) -> str:
    return f"{to_decimal(minor, currency)} {currency}"


def offer_text(t, offer: SaveOffer, currency: str) -> str:
    if offer.kind is OfferKind.DISCOUNT:
        return t("offer.discount", percent=offer.percent, months=offer.months)
    if offer.kind is OfferKind.PAUSE:
        return t("offer.pause", months=offer.months)
    return t("offer.cheaper_plan", plan=offer.plan, price=money(offer.price or 0, currency))


def _page(template: str, session: Session | None, **values) -> str:
    language = texts.language_of(session.request.locale if session else None)
    t = texts.translator(language)
    back = {}
    if session is not None:
        back = {"return_url": session.request.return_url, "return_host": urlsplit(session.request.return_url).hostname}
    return render(
        template,
        language,
        None,
        t=t,
        **{
            "return_url": None,
            "notice": None,
            "ticket": None,
            "relink_action": None,
            "relink_lead": None,
            "undo_action": None,
            "outcome": None,
            "lead": None,
            **back,
            **values,
        },
    )


def session_page(session: Session, now: datetime, notice_key: str | None = None) -> str:
    t = texts.translator(texts.language_of(session.request.locale))
    notice = t(notice_key) if notice_key else None
    request = session.request
    if session.status is Status.OPEN and session.offer_shown_at is not None:
        offer = session.offer if notice_key != "offer_unavailable" else None
        return _page(
            "cancel_offer.html",
            session,
            title_key="offer.title",
            action=page_path(session),
            offer_text=offer_text(t, offer, request.currency) if offer else None,
            offer_id=offer.offer_id if offer else "",
            notice=notice,
            ticket=tickets.seal(session),
        )
    if session.status is Status.OPEN:
        return _page(
            "cancel_reasons.html",
            session,
            title_key="title",
            action=page_path(session),
            reasons=[str(r) for r in session.flow.reasons],
            plan=request.plan,
            price=money(request.price, request.currency),
            return_url=None,
            ticket=tickets.seal(session),
        )
    done = {"title_key": "done.title", "notice": notice, "lead": None, "undo_action": None}
    if session.status is Status.CANCELLED:
        done["outcome"] = t("done.cancelled", date=request.effective_date.isoformat())
        if now < session.undo_until():
            done |= {
                "undo_action": undo_path(session),
                "undo_until": request.effective_date.isoformat(),
                "ticket": tickets.seal(session),
            }
    else:
        # Saved or kept: the person may still want to leave later; a new session is one email away.
        saved = session.status is Status.SAVED
        done["outcome"] = t("done.saved", offer=offer_text(t, session.offer, request.currency)) if saved else None
        done["outcome"] = done["outcome"] or t("done.undone")
        relink = new_link_path(page_path(session).removeprefix("/cancel/"))
        done |= {"relink_action": relink, "relink_lead": t("relink.after")}
    return _page("cancel_done.html", session, **done)


def refused_link_page(session: Session | None, token: str | None = None) -> str:
    """A refused link is never a dead end: an expired one leads back to the business, and any
    link that names a session offers to have the business mail a new one."""
    key = "expired.lead" if session else "invalid.lead"
    t = texts.translator(texts.language_of(session.request.locale if session else None))
    relink = new_link_path(token) if token else None
    return _page(
        "cancel_done.html",
        session,
        title_key="expired.title",
        outcome=None,
        lead=t(key),
        undo_action=None,
        relink_action=relink,
        relink_lead=t("relink.lead"),
    )


def new_link_page(result: LinkRequest) -> str:
    t = texts.translator(texts.language_of(result.session.request.locale if result.session else None))
    if result.session is None:
        return _page("cancel_done.html", None, title_key="expired.title", outcome=None, lead=t("relink.unknown"))
    outcome = t("relink.sent") if result.requested else None
    notice = None if result.requested else t("relink.limited")
    return _page(
        "cancel_done.html", result.session, title_key="relink.title", outcome=outcome, notice=notice, lead=None
    )


def frame_headers(session: Session | None) -> dict[str, str]:
    """The pages refuse every frame (clickjacking) unless the business listed the origins of its
    own pages that embed the flow: then those, and only those, may frame it."""
    origins = session.flow.embed_origins if session is not None else ()
    if not origins:
        return {}
    policy = HTML_HEADERS["Content-Security-Policy"]
    return {"Content-Security-Policy": policy.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(origins))}
