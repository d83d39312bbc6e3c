"""The cancellation pages' texts in English and Thai (the page machinery's languages)."""

from __future__ import annotations

from chalicelib.core import i18n

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Cancel your subscription",
        "lead": "You can cancel right now. If you like, tell us why first: every answer is optional.",
        "subscription": "{plan}, {price} per billing period",
        "legend": "Why are you cancelling? (optional)",
        "reason.too_expensive": "It is too expensive",
        "reason.unused": "I don't use it enough",
        "reason.switched_service": "I switched to another service",
        "reason.missing_features": "Features I need are missing",
        "reason.too_complex": "It is too complicated",
        "reason.low_quality": "The quality was not good enough",
        "reason.customer_service": "I was unhappy with customer service",
        "reason.other": "Something else",
        "comment": "Anything else you want to tell us? (optional)",
        "cancel": "Cancel subscription",
        "continue": "Continue",
        "offer.title": "Before you go",
        "offer.lead": "One offer, if it helps. If not, you can cancel right here.",
        "offer.discount": "{percent}% off your next {months} months",
        "offer.pause": "Pause your subscription for {months} months, with no charge",
        "offer.cheaper_plan": "Switch to {plan} for {price}",
        "accept": "Accept this offer",
        "decline": "No thanks, cancel",
        "done.cancelled": "Your subscription is cancelled. It ends on {date}.",
        "done.undo": "Keep my subscription",
        "done.undo_until": "Changed your mind? You can keep it until {date}.",
        "done.saved": "Done: {offer}. Your subscription continues; nothing else changes.",
        "done.undone": "Your subscription continues. Nothing was cancelled.",
        "done.title": "All set",
        "back": "Back to {host}",
        "expired.title": "This link has expired",
        "expired.lead": "For your security, cancellation links work for one hour. Start again from your account page and you will get a new link; you can cancel there at once.",
        "invalid.lead": "This cancellation link is not valid. Start again from your account page to cancel.",
        "offer_unavailable": "Sorry, this offer is no longer available. You can still cancel below.",
        "undo_window_passed": "The cancellation is already in effect and can no longer be undone.",
        "relink.lead": "You can still cancel: we can ask the business to email you a new cancellation link.",
        "relink.after": "Want to cancel after all? We can ask the business to email you a new cancellation link.",
        "relink.button": "Email me a new link",
        "relink.title": "New link requested",
        "relink.sent": "We have asked the business to email you a new cancellation link. It usually arrives within a few minutes.",
        "relink.limited": "A new link was requested a short while ago. Please check your email; you can ask again in 10 minutes.",
        "relink.unknown": "We could not find this cancellation. Start again from your account page to cancel.",
    },
    "th": {
        "title": "ยกเลิกการสมัครสมาชิก",
        "lead": "คุณยกเลิกได้ทันที หากต้องการ บอกเหตุผลให้เราทราบก่อนได้ ทุกคำตอบไม่บังคับ",
        "subscription": "{plan} ราคา {price} ต่อรอบการเรียกเก็บเงิน",
        "legend": "ทำไมคุณจึงยกเลิก? (ไม่บังคับ)",
        "reason.too_expensive": "ราคาแพงเกินไป",
        "reason.unused": "ใช้งานไม่บ่อยพอ",
        "reason.switched_service": "เปลี่ยนไปใช้บริการอื่น",
        "reason.missing_features": "ขาดฟีเจอร์ที่ต้องการ",
        "reason.too_complex": "ใช้งานยากเกินไป",
        "reason.low_quality": "คุณภาพไม่ดีพอ",
        "reason.customer_service": "ไม่พอใจกับบริการลูกค้า",
        "reason.other": "อื่น ๆ",
        "comment": "มีอะไรอยากบอกเราเพิ่มเติมไหม? (ไม่บังคับ)",
        "cancel": "ยกเลิกการสมัครสมาชิก",
        "continue": "ดำเนินการต่อ",
        "offer.title": "ก่อนที่คุณจะไป",
        "offer.lead": "ข้อเสนอหนึ่งข้อ หากช่วยได้ หากไม่ คุณยกเลิกได้ที่นี่เลย",
        "offer.discount": "ลด {percent}% สำหรับ {months} เดือนถัดไป",
        "offer.pause": "หยุดการสมัครสมาชิกชั่วคราว {months} เดือน โดยไม่มีค่าใช้จ่าย",
        "offer.cheaper_plan": "เปลี่ยนเป็น {plan} ในราคา {price}",
        "accept": "รับข้อเสนอนี้",
        "decline": "ไม่ ขอบคุณ ยกเลิก",
        "done.cancelled": "ยกเลิกการสมัครสมาชิกแล้ว สิ้นสุดวันที่ {date}",
        "done.undo": "ใช้งานต่อ",
        "done.undo_until": "เปลี่ยนใจหรือไม่? คุณเลือกใช้งานต่อได้จนถึงวันที่ {date}",
        "done.saved": "เรียบร้อย: {offer} การสมัครสมาชิกของคุณยังคงอยู่ ไม่มีอะไรเปลี่ยนแปลงอีก",
        "done.undone": "การสมัครสมาชิกของคุณยังคงอยู่ ไม่มีการยกเลิก",
        "done.title": "เรียบร้อย",
        "back": "กลับไปที่ {host}",
        "expired.title": "ลิงก์นี้หมดอายุแล้ว",
        "expired.lead": "เพื่อความปลอดภัย ลิงก์ยกเลิกใช้ได้หนึ่งชั่วโมง เริ่มใหม่จากหน้าบัญชีของคุณเพื่อรับลิงก์ใหม่ คุณยกเลิกได้ทันทีที่นั่น",
        "invalid.lead": "ลิงก์ยกเลิกนี้ไม่ถูกต้อง เริ่มใหม่จากหน้าบัญชีของคุณเพื่อยกเลิก",
        "offer_unavailable": "ขออภัย ข้อเสนอนี้ไม่มีแล้ว คุณยังยกเลิกได้ด้านล่าง",
        "undo_window_passed": "การยกเลิกมีผลแล้ว ไม่สามารถย้อนกลับได้",
        "relink.lead": "คุณยังยกเลิกได้ เราขอให้ธุรกิจส่งลิงก์ยกเลิกใหม่ไปที่อีเมลของคุณได้",
        "relink.after": "ต้องการยกเลิกหรือไม่? เราขอให้ธุรกิจส่งลิงก์ยกเลิกใหม่ไปที่อีเมลของคุณได้",
        "relink.button": "ส่งลิงก์ใหม่ทางอีเมล",
        "relink.title": "ขอลิงก์ใหม่แล้ว",
        "relink.sent": "เราขอให้ธุรกิจส่งลิงก์ยกเลิกใหม่ไปที่อีเมลของคุณแล้ว โดยปกติจะได้รับภายในไม่กี่นาที",
        "relink.limited": "มีการขอลิงก์ใหม่ไปเมื่อสักครู่ โปรดตรวจสอบอีเมลของคุณ คุณขอใหม่ได้อีกครั้งใน 10 นาที",
        "relink.unknown": "ไม่พบการยกเลิกนี้ เริ่มใหม่จากหน้าบัญชีของคุณเพื่อยกเลิก",
    },
}


def language_of(locale: str | None) -> str:
    return i18n.negotiate(locale)


def translator(language: str):
    messages = MESSAGES.get(language, MESSAGES[i18n.DEFAULT])

    def translate(key: str, **values) -> str:
        return messages.get(key, MESSAGES[i18n.DEFAULT][key]).format(**values)

    return translate
