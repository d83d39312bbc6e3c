"""Page texts in English and Thai, chosen by the Accept-Language header."""

from __future__ import annotations

SUPPORTED = ("en", "th")
DEFAULT = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title.choose": "Unsubscribe",
        "choose.heading": "Stop emails from {list}?",
        "choose.lead": "Choose what you want. One click and it is done.",
        "choice.list": "Unsubscribe from {list} only",
        "choice.all": "Unsubscribe from all our lists",
        "choice.pause30": "Pause {list} for 30 days",
        "choice.pause90": "Pause {list} for 90 days",
        "choice.legend": "What would you like?",
        "choose.submit": "Unsubscribe",
        "choose.already": "You are already unsubscribed from {list}.",
        "title.survey": "You are unsubscribed",
        "title.survey_pause": "Your pause is set",
        "done.unsubscribe": "You are unsubscribed from {list}. You will not get any more emails from this list.",
        "done.unsubscribe_all": "You are unsubscribed from all our lists. You will not get any more emails from us.",
        "done.pause": "{list} is paused until {until}. We will not email you from this list before then.",
        "done.resubscribe": "You are subscribed to {list} again.",
        "done.resubscribe_all": "You are subscribed to your lists again.",
        "done.resume": "{list} is no longer paused.",
        "done.undo_unavailable": "This change can no longer be undone, because your choice changed since.",
        "done.deferred": "We have your request and it will be applied within minutes. You do not need to do anything else.",
        "survey.legend": "Optional: would you tell us why? Your unsubscribe is already done.",
        "survey.legend_pause": "Optional: would you tell us why? Your pause is already set.",
        "reason.too_many_emails": "Too many emails",
        "reason.not_relevant": "The content is not relevant to me",
        "reason.too_expensive": "Too expensive",
        "reason.switched_service": "I switched to another product",
        "reason.missing_features": "Missing features I need",
        "reason.technical_problems": "Technical problems",
        "reason.other": "Other",
        "survey.comment": "Anything else? (optional)",
        "survey.submit": "Send answer",
        "survey.skip": "Skip",
        "survey.thanks": "Thank you for your answer.",
        "title.done": "Done",
        "undo.unsubscribe": "Undo: subscribe me again",
        "undo.pause": "Undo: end the pause",
        "choose.frequency_legend": "Or stay, and get {list} less often:",
        "choose.frequency_now": "You get {list} as: {frequency}.",
        "choice.frequency": "Switch to: {frequency}",
        "done.frequency": "You will get {list} as {frequency} from now on.",
        "done.frequency_usual": "You will get every email of {list} again, as before.",
        "undo.frequency": "Undo: go back to how often I got it before",
        "error.not_subscribed": "You are not subscribed to this list, so there is nothing to change.",
        "error.title": "Something is not right",
        "error.invalid_token": "This link is not valid. It may have been cut off or changed. Please use the whole link from your email.",
        "error.unknown_list": "This list no longer exists, so you will not get emails from it.",
        "error.bad_choice": "Please choose one of the options.",
        "error.bad_survey": "Please choose one of the listed reasons, or skip the question.",
        "error.bad_form": "The form could not be read. Please try again.",
        "error.not_found": "We could not find what you asked for.",
        "error.unavailable": "We could not save your choice just now. Please try again in a minute.",
        "error.internal": "Something went wrong on our side. We have logged it; please try again later.",
        "keep.title": "Keep your subscription",
        "keep.heading": "Do you still want {list}?",
        "keep.lead": "One click and you stay on the list.",
        "keep.submit": "Keep me subscribed",
        "keep.done": "You are still subscribed to {list}. Thank you!",
        "keep.unsubscribed": "You are not subscribed to {list}.",
        "keep.heading_many": "Do you still want these lists?",
        "keep.lead_many": "One click and you stay on all of them.",
        "keep.done_many": "You are still subscribed to these lists. Thank you!",
    },
    "th": {
        "title.choose": "ยกเลิกการรับอีเมล",
        "choose.heading": "หยุดรับอีเมลจาก {list} หรือไม่?",
        "choose.lead": "เลือกสิ่งที่คุณต้องการ คลิกเดียวก็เสร็จ",
        "choice.list": "ยกเลิกเฉพาะ {list}",
        "choice.all": "ยกเลิกทุกรายการของเรา",
        "choice.pause30": "หยุด {list} ชั่วคราว 30 วัน",
        "choice.pause90": "หยุด {list} ชั่วคราว 90 วัน",
        "choice.legend": "คุณต้องการทำอะไร?",
        "choose.submit": "ยกเลิกการรับอีเมล",
        "choose.already": "คุณได้ยกเลิกการรับอีเมลจาก {list} แล้ว",
        "title.survey": "ยกเลิกการรับอีเมลแล้ว",
        "title.survey_pause": "หยุดชั่วคราวเรียบร้อยแล้ว",
        "done.unsubscribe": "คุณได้ยกเลิกการรับอีเมลจาก {list} แล้ว คุณจะไม่ได้รับอีเมลจากรายการนี้อีก",
        "done.unsubscribe_all": "คุณได้ยกเลิกการรับอีเมลทุกรายการของเราแล้ว คุณจะไม่ได้รับอีเมลจากเราอีก",
        "done.pause": "{list} หยุดชั่วคราวถึง {until} เราจะไม่ส่งอีเมลจากรายการนี้ก่อนวันนั้น",
        "done.resubscribe": "คุณกลับมารับ {list} อีกครั้งแล้ว",
        "done.resubscribe_all": "คุณกลับมารับรายการของคุณอีกครั้งแล้ว",
        "done.resume": "{list} ไม่ได้หยุดชั่วคราวอีกต่อไป",
        "done.undo_unavailable": "ไม่สามารถยกเลิกการเปลี่ยนแปลงนี้ได้แล้ว เพราะตัวเลือกของคุณเปลี่ยนไปหลังจากนั้น",
        "done.deferred": "เราได้รับคำขอของคุณแล้ว และจะดำเนินการภายในไม่กี่นาที คุณไม่ต้องทำอะไรเพิ่ม",
        "survey.legend": "ไม่บังคับ: บอกเหตุผลให้เราทราบได้ไหม? การยกเลิกของคุณเสร็จเรียบร้อยแล้ว",
        "survey.legend_pause": "ไม่บังคับ: บอกเหตุผลให้เราทราบได้ไหม? การหยุดชั่วคราวของคุณเสร็จเรียบร้อยแล้ว",
        "reason.too_many_emails": "อีเมลมากเกินไป",
        "reason.not_relevant": "เนื้อหาไม่ตรงกับความสนใจ",
        "reason.too_expensive": "ราคาแพงเกินไป",
        "reason.switched_service": "เปลี่ยนไปใช้ผลิตภัณฑ์อื่น",
        "reason.missing_features": "ขาดฟีเจอร์ที่ต้องการ",
        "reason.technical_problems": "ปัญหาทางเทคนิค",
        "reason.other": "อื่น ๆ",
        "survey.comment": "มีอะไรเพิ่มเติมไหม? (ไม่บังคับ)",
        "survey.submit": "ส่งคำตอบ",
        "survey.skip": "ข้าม",
        "survey.thanks": "ขอบคุณสำหรับคำตอบ",
        "title.done": "เรียบร้อย",
        "undo.unsubscribe": "ยกเลิกการเปลี่ยนแปลง: สมัครรับอีกครั้ง",
        "undo.pause": "ยกเลิกการหยุดชั่วคราว",
        "choose.frequency_legend": "หรือรับ {list} ต่อ แต่น้อยลง:",
        "choose.frequency_now": "ตอนนี้คุณรับ {list} แบบ: {frequency}",
        "choice.frequency": "เปลี่ยนเป็น: {frequency}",
        "done.frequency": "ต่อจากนี้คุณจะได้รับ {list} แบบ {frequency}",
        "done.frequency_usual": "คุณจะได้รับอีเมลทุกฉบับจาก {list} อีกครั้งเหมือนเดิม",
        "undo.frequency": "ยกเลิกการเปลี่ยนแปลง: กลับไปรับบ่อยเท่าเดิม",
        "error.not_subscribed": "คุณไม่ได้รับรายการนี้อยู่ จึงไม่มีอะไรต้องเปลี่ยน",
        "error.title": "มีบางอย่างไม่ถูกต้อง",
        "error.invalid_token": "ลิงก์นี้ไม่ถูกต้อง อาจถูกตัดหรือถูกแก้ไข โปรดใช้ลิงก์ทั้งหมดจากอีเมลของคุณ",
        "error.unknown_list": "รายการนี้ไม่มีอยู่แล้ว คุณจะไม่ได้รับอีเมลจากรายการนี้",
        "error.bad_choice": "โปรดเลือกหนึ่งตัวเลือก",
        "error.bad_survey": "โปรดเลือกเหตุผลจากรายการ หรือข้ามคำถามนี้",
        "error.bad_form": "ไม่สามารถอ่านแบบฟอร์มได้ โปรดลองอีกครั้ง",
        "error.not_found": "ไม่พบสิ่งที่คุณต้องการ",
        "error.unavailable": "ไม่สามารถบันทึกตัวเลือกของคุณได้ในขณะนี้ โปรดลองอีกครั้งในอีกสักครู่",
        "error.internal": "เกิดข้อผิดพลาดในระบบของเรา เราได้บันทึกไว้แล้ว โปรดลองอีกครั้งภายหลัง",
        "keep.title": "รับอีเมลต่อ",
        "keep.heading": "คุณยังต้องการรับ {list} อยู่หรือไม่?",
        "keep.lead": "คลิกเดียวเพื่อรับต่อ",
        "keep.submit": "รับอีเมลต่อ",
        "keep.done": "คุณยังคงรับ {list} อยู่ ขอบคุณ!",
        "keep.unsubscribed": "คุณไม่ได้รับ {list} อยู่",
        "keep.heading_many": "คุณยังต้องการรับรายการเหล่านี้อยู่หรือไม่?",
        "keep.lead_many": "คลิกเดียวเพื่อรับต่อทุกรายการ",
        "keep.done_many": "คุณยังคงรับรายการเหล่านี้อยู่ ขอบคุณ!",
    },
}


def negotiate(accept_language: str | None) -> str:
    """The supported language the reader ranks highest (RFC 9110 quality values)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in SUPPORTED and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


def translator(language: str):
    messages = MESSAGES.get(language, MESSAGES[DEFAULT])

    def translate(key: str, **values: str) -> str:
        return messages.get(key, MESSAGES[DEFAULT][key]).format(**values)

    return translate
