/* offboard exit-intent snippet. Add to a page:
 *   <script src="https://OFFBOARD/offers/snippet.js" data-site-key="SITE_KEY" async></script>
 * Optional: data-cart-value, data-currency, data-min-seconds (default 4), data-sensitivity (px, default 20),
 * data-lang (the dialog's own words: en or th; default the page's <html lang>),
 * Signed-in customers: the shop's server renders window.offboardCustomer = {id: "CUSTOMER_ID", hash: "HEX"} (or
 * data-customer-id and data-customer-hash), hash = HMAC-SHA256(site secret, id); an id without a valid hash counts
 * as an anonymous visitor. window.offboardCustomer = true only says "signed in" (targeting). On order-complete
 * pages call window.offboard.converted().
 * It never blocks leaving: no beforeunload prompts, no history tricks. No dependencies, no cookies.
 * Content-Security-Policy: it needs only `script-src` and `connect-src` for the OFFBOARD origin. Its styles
 * are a constructable stylesheet adopted by its shadow root (not governed by `style-src`); it writes no
 * <style> element, no style attribute and no HTML strings (Trusted Types friendly). */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.offboard) return;
  var data = script.dataset;
  var siteKey = data.siteKey;
  var api = script.src.replace(/\/offers\/snippet\.js.*$/, "");
  var started = Date.now();
  var minSeconds = parseFloat(data.minSeconds || "4");
  var sensitivity = parseFloat(data.sensitivity || "20");
  var store = safeStorage("localStorage"), session = safeStorage("sessionStorage");
  var dismissedKey = "offboard:dismissed:" + siteKey;
  var asked = false;
  var SEEN_RATIO = 0.5; // at least half the dialog in the viewport
  // The dialog's own words in the page's language (data-lang, else <html lang>); a campaign's texts are its own.
  var WORDS = {
    en: { close: "Close", before: "Before you go", code: "Your code", copy: "Copy code", later: "Email it to me for later",
      email: "Your email (used once to send the code, not kept)", send: "Send", never: "Don\u2019t show this again",
      expires: "Expires in ", expired: "This code has expired.", percent: "{v}% off", amount: "{v} {c} off",
      shipping: "Free shipping", copied: "Copied {code}. Paste it at checkout.", sent: "Sent. Check your inbox.",
      failed: "We could not send it. You can copy the code instead." },
    th: { close: "\u0e1b\u0e34\u0e14", before: "\u0e01\u0e48\u0e2d\u0e19\u0e04\u0e38\u0e13\u0e08\u0e30\u0e44\u0e1b",
      code: "\u0e23\u0e2b\u0e31\u0e2a\u0e02\u0e2d\u0e07\u0e04\u0e38\u0e13", copy: "\u0e04\u0e31\u0e14\u0e25\u0e2d\u0e01\u0e23\u0e2b\u0e31\u0e2a",
      later: "\u0e2a\u0e48\u0e07\u0e23\u0e2b\u0e31\u0e2a\u0e17\u0e32\u0e07\u0e2d\u0e35\u0e40\u0e21\u0e25\u0e44\u0e27\u0e49\u0e43\u0e0a\u0e49\u0e20\u0e32\u0e22\u0e2b\u0e25\u0e31\u0e07",
      email: "\u0e2d\u0e35\u0e40\u0e21\u0e25\u0e02\u0e2d\u0e07\u0e04\u0e38\u0e13 (\u0e43\u0e0a\u0e49\u0e2a\u0e48\u0e07\u0e23\u0e2b\u0e31\u0e2a\u0e04\u0e23\u0e31\u0e49\u0e07\u0e40\u0e14\u0e35\u0e22\u0e27 \u0e44\u0e21\u0e48\u0e40\u0e01\u0e47\u0e1a\u0e44\u0e27\u0e49)",
      send: "\u0e2a\u0e48\u0e07", never: "\u0e44\u0e21\u0e48\u0e15\u0e49\u0e2d\u0e07\u0e41\u0e2a\u0e14\u0e07\u0e2d\u0e35\u0e01",
      expires: "\u0e2b\u0e21\u0e14\u0e2d\u0e32\u0e22\u0e38\u0e43\u0e19 ", expired: "\u0e23\u0e2b\u0e31\u0e2a\u0e19\u0e35\u0e49\u0e2b\u0e21\u0e14\u0e2d\u0e32\u0e22\u0e38\u0e41\u0e25\u0e49\u0e27",
      percent: "\u0e25\u0e14 {v}%", amount: "\u0e25\u0e14 {v} {c}", shipping: "\u0e2a\u0e48\u0e07\u0e1f\u0e23\u0e35",
      copied: "\u0e04\u0e31\u0e14\u0e25\u0e2d\u0e01 {code} \u0e41\u0e25\u0e49\u0e27 \u0e27\u0e32\u0e07\u0e23\u0e2b\u0e31\u0e2a\u0e15\u0e2d\u0e19\u0e0a\u0e33\u0e23\u0e30\u0e40\u0e07\u0e34\u0e19",
      sent: "\u0e2a\u0e48\u0e07\u0e41\u0e25\u0e49\u0e27 \u0e42\u0e1b\u0e23\u0e14\u0e14\u0e39\u0e01\u0e25\u0e48\u0e2d\u0e07\u0e08\u0e14\u0e2b\u0e21\u0e32\u0e22",
      failed: "\u0e2a\u0e48\u0e07\u0e44\u0e21\u0e48\u0e2a\u0e33\u0e40\u0e23\u0e47\u0e08 \u0e04\u0e38\u0e13\u0e04\u0e31\u0e14\u0e25\u0e2d\u0e01\u0e23\u0e2b\u0e31\u0e2a\u0e41\u0e17\u0e19\u0e44\u0e14\u0e49" }
  };
  var lang = String(data.lang || document.documentElement.lang || "en").toLowerCase().split("-")[0];
  if (!WORDS[lang]) lang = "en";
  function say(key, values) {
    return WORDS[lang][key].replace(/\{(\w+)\}/g, function (_, name) { return String((values || {})[name]); });
  }
  var GIVE_UP_MS = 3000; // a dialog the page keeps hidden this long (while the tab is visible) is removed

  // Without constructable stylesheets and shadow DOM the dialog could not be styled under a strict
  // CSP: ask for nothing then, so no code is issued that nobody would see (Chrome 73, Firefox 101, Safari 16.4).
  var canShow = typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype &&
    typeof ShadowRoot === "function" && "adoptedStyleSheets" in ShadowRoot.prototype &&
    typeof Element.prototype.attachShadow === "function" && typeof IntersectionObserver === "function";

  // :host declarations are !important so that a theme's rules for every div (padding, margins, transforms,
  // filters) neither move the page nor trap the overlay; display, visibility and opacity are left to the
  // page: when it hides the element, that is respected, and no impression is counted.
  var CSS =
    ':host{position:fixed!important;top:0!important;left:0!important;width:0!important;height:0!important;' +
    'margin:0!important;padding:0!important;border:0!important;overflow:visible!important;z-index:2147483647!important;' +
    'transform:none!important;filter:none!important;backdrop-filter:none!important;perspective:none!important;' +
    'contain:none!important;will-change:auto!important;clip-path:none!important;mask:none!important}' +
    '.backdrop{all:initial;visibility:inherit;position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;' +
    'justify-content:center;z-index:2147483647;font:16px/1.45 system-ui,sans-serif;color:#1d1d1f;text-align:left}' +
    '.backdrop.waiting{pointer-events:none}' +
    '.dialog{background:#fff;color:#1d1d1f;max-width:24rem;width:calc(100% - 2rem);max-height:calc(100% - 2rem);overflow:auto;' +
    'box-sizing:border-box;border-radius:12px;padding:1.25rem 1.25rem 1rem;position:relative;box-shadow:0 10px 30px rgba(0,0,0,.25)}' +
    '@media (max-width:600px){.backdrop{align-items:flex-end}.dialog{width:100%;max-width:none;max-height:100%;border-radius:12px 12px 0 0}}' +
    'h2{margin:0 2rem .4rem 0;font-size:1.25rem;font-weight:700}p{margin:0 0 .6rem}.value{font-size:1.6rem;font-weight:700;margin:.2rem 0}' +
    '.code{font:600 1.3rem ui-monospace,monospace;letter-spacing:.08em;border:2px dashed #888;border-radius:8px;padding:.4rem .6rem;text-align:center;margin:.6rem 0}' +
    'button,input{font:inherit;box-sizing:border-box}button{min-height:44px;border-radius:8px;cursor:pointer;padding:.5rem .9rem}' +
    '.primary{background:#1f5fbf;color:#fff;border:0;width:100%;font-weight:600}.link{display:block;background:none;border:0;color:#1f5fbf;text-decoration:underline;padding:.4rem 0}' +
    '.close{position:absolute;top:.5rem;right:.5rem;background:none;border:0;font-size:1.5rem;line-height:1;min-width:44px;color:inherit}' +
    '.row{display:flex;gap:.5rem;margin-top:.5rem}.row input{flex:1;min-width:0;padding:.5rem;border:1px solid #aaa;border-radius:8px}' +
    '[hidden]{display:none}.status{margin:0}.small{font-size:.85rem;color:#555}:focus-visible{outline:3px solid #0a84ff;outline-offset:2px}';
  var sheet = null;
  function styles() {
    if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
    return sheet;
  }

  function safeStorage(name) {
    try { var s = window[name]; s.setItem("offboard:probe", "1"); s.removeItem("offboard:probe"); return s; }
    catch (e) { var m = {}; return { getItem: function (k) { return m[k] || null; }, setItem: function (k, v) { m[k] = String(v); } }; }
  }
  function randomId() {
    var bytes = new Uint8Array(16); (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var returning = !!store.getItem("offboard:vid");
  var visitorId = store.getItem("offboard:vid") || randomId();
  store.setItem("offboard:vid", visitorId);
  var sessionId = session.getItem("offboard:sid") || randomId();
  session.setItem("offboard:sid", sessionId);

  function device() {
    var coarse = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
    if (!coarse) return "desktop";
    return Math.min(screen.width, screen.height) >= 600 ? "tablet" : "mobile";
  }
  function signedCustomer() { // {customer_id, customer_hash} as the shop's server signed them, or {}
    var given = window.offboardCustomer;
    var id = given && typeof given === "object" ? given.id : data.customerId;
    var hash = given && typeof given === "object" ? given.hash : data.customerHash;
    return typeof id === "string" && id && typeof hash === "string" && hash ? { customer_id: id, customer_hash: hash } : {};
  }
  function post(path, body, keepalive) {
    // text/plain keeps this a "simple" cross-origin request: no preflight round trip.
    return fetch(api + path, { method: "POST", mode: "cors", credentials: "omit", keepalive: !!keepalive,
      headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body) });
  }
  function beacon(body) { // the answer does not matter to the visitor: never an error
    try { post("/offers/events", body, true).catch(function () {}); } catch (e) { /* ignored */ }
  }

  function onExitIntent() {
    if (!canShow || asked || store.getItem(dismissedKey)) return;
    if ((Date.now() - started) / 1000 < minSeconds) return;
    asked = true; // once per page view, whatever the answer
    var cart = window.offboardCart || {};
    var customer = signedCustomer(); // read when asked: the page may set it after this script ran
    var params = new URLSearchParams(location.search);
    post("/offers/decide", Object.assign({
      site_key: siteKey, visitor_id: visitorId, session_id: sessionId, page_url: location.href,
      cart_value: Number(cart.value || data.cartValue || 0), currency: cart.currency || data.currency || undefined,
      device: device(), referrer: document.referrer || undefined, utm_source: params.get("utm_source") || undefined,
      known_customer: window.offboardCustomer === true || !!customer.customer_id, returning: returning,
      seconds_on_page: Math.round((Date.now() - started) / 1000)
    }, customer)).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) { if (answer && answer.show) whenVisible(function () { show(answer); }); })
      .catch(function () { /* an offer is never worth an error */ });
  }
  function whenVisible(fn) {
    if (document.visibilityState !== "hidden") return fn();
    document.addEventListener("visibilitychange", function once() {
      if (document.visibilityState === "visible") { document.removeEventListener("visibilitychange", once); fn(); }
    });
  }

  // Desktop: the pointer leaves through the top of the window (not into a select menu or autofill popup).
  document.addEventListener("mouseout", function (e) {
    if (e.relatedTarget || e.toElement) return;
    if (e.clientY > sensitivity) return;
    onExitIntent();
  });
  // Mobile: a fast scroll back up after reading down, or the page going hidden (tab switch, app switch).
  var lastY = window.scrollY, lastT = Date.now(), deepest = 0;
  window.addEventListener("scroll", function () {
    var y = window.scrollY, t = Date.now();
    deepest = Math.max(deepest, y);
    var speed = (lastY - y) / Math.max(1, t - lastT); // px per ms, upwards positive
    if (device() !== "desktop" && deepest > 400 && speed > 1.5) onExitIntent();
    lastY = y; lastT = t;
  }, { passive: true });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && device() !== "desktop") onExitIntent();
  });

  function describe(offer) {
    if (offer.kind === "percent") return say("percent", { v: offer.value });
    if (offer.kind === "amount") return say("amount", { v: offer.value, c: offer.currency });
    return say("shipping");
  }

  // Elements built one by one (no HTML strings): Trusted Types and CSP have nothing to refuse.
  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    for (var name in attrs) if (Object.prototype.hasOwnProperty.call(attrs, name)) node.setAttribute(name, attrs[name]);
    (kids || []).forEach(function (kid) { node.appendChild(typeof kid === "string" ? document.createTextNode(kid) : kid); });
    return node;
  }

  // Seen: our stylesheet applies, and neither the dialog nor anything around it (across the shadow
  // boundary, up to <html>) is display:none, visibility:hidden or (nearly) transparent.
  function looksVisible(backdrop, dialog) {
    if (!dialog.isConnected || getComputedStyle(backdrop).position !== "fixed") return false;
    if (dialog.checkVisibility && !dialog.checkVisibility({ opacityProperty: true, visibilityProperty: true, checkOpacity: true, checkVisibilityCSS: true })) return false;
    var opacity = 1;
    for (var node = dialog; node && node.nodeType === 1;) {
      var style = getComputedStyle(node);
      if (style.display === "none" || style.visibility !== "visible" || style.contentVisibility === "hidden") return false;
      opacity *= parseFloat(style.opacity);
      var parent = node.parentNode;
      node = parent && parent.nodeType === 11 ? parent.host : parent;
    }
    return opacity >= 0.5;
  }

  function show(answer) {
    // A campaign whose budget is spent may show a message with no code (answer.message).
    var hasCode = !!answer.offer;
    var offer = answer.offer || { texts: (answer.message || {}).texts || {} }, texts = offer.texts || {};
    var deadline = Date.now() + (offer.expires_in_seconds || 0) * 1000;
    var host = document.createElement("div");
    host.setAttribute("data-offboard", "");
    var root = host.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [styles()];

    var close = el("button", { "class": "close", type: "button", "aria-label": say("close") }, ["\u00d7"]);
    var title = el("h2", { id: "ob-title" }, [texts.headline || say("before")]);
    var code = el("div", { "class": "code", "aria-label": say("code") }, [offer.code || ""]);
    var countdown = el("span", { "class": "countdown" });
    var use = el("button", { "class": "primary use", type: "button" }, [texts.cta || say("copy")]);
    var emailToggle = el("button", { "class": "link email-toggle", type: "button" }, [say("later")]);
    var input = el("input", { id: "ob-email", type: "email", autocomplete: "email", required: "" });
    var form = el("form", { "class": "email", hidden: "" }, [
      el("label", { "class": "small", "for": "ob-email" }, [say("email")]),
      el("div", { "class": "row" }, [input, el("button", { type: "submit" }, [say("send")])])
    ]);
    var status = el("p", { "class": "small status", role: "status" });
    var never = el("button", { "class": "link never", type: "button" }, [say("never")]);
    var body = el("p", { id: "ob-body" }, [texts.body || ""]);
    var dialog = el("div", { "class": "dialog", lang: lang, role: "dialog", "aria-modal": "true", "aria-labelledby": "ob-title", "aria-describedby": "ob-body" },
      hasCode ? [
        close, title, el("p", { "class": "value" }, [describe(offer)]), body, code,
        el("p", { "class": "small", role: "timer", "aria-live": "off" }, [say("expires"), countdown]),
        use, emailToggle, form, status, never
      ] : [close, title, body, use, never]);
    var backdrop = el("div", { "class": "backdrop waiting", part: "backdrop" }, [dialog]);
    root.appendChild(backdrop);

    var previousFocus = document.activeElement;
    var closed = false, seen = false, inView = false;
    var ids = { site_key: siteKey, code: offer.code, campaign_id: answer.campaign_id, variant_id: answer.variant_id };
    document.body.appendChild(host);
    var timer = hasCode ? setInterval(tick, 1000) : null;
    if (hasCode) tick();
    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      countdown.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      if (!left) { clearInterval(timer); use.disabled = true; status.textContent = say("expired"); }
    }

    // Counted, focused and interactive only once someone can actually see it.
    var giveUpAt = Date.now() + GIVE_UP_MS;
    var observer = new IntersectionObserver(function (entries) {
      inView = entries[entries.length - 1].intersectionRatio >= SEEN_RATIO;
      check();
    }, { threshold: [0, SEEN_RATIO, 1] });
    observer.observe(dialog);
    var watching = setInterval(check, 200); // the page may reveal it later (a theme's transition)
    function check() {
      if (seen || closed) return;
      if (inView && looksVisible(backdrop, dialog)) return onSeen();
      if (document.visibilityState === "hidden") giveUpAt = Date.now() + GIVE_UP_MS;
      else if (Date.now() > giveUpAt) teardown(false);
    }
    function onSeen() {
      seen = true; clearInterval(watching); observer.disconnect();
      backdrop.classList.remove("waiting");
      document.addEventListener("keydown", onKey, true);
      use.focus({ preventScroll: true });
      beacon(Object.assign({ event: "impression" }, ids));
    }
    function teardown(restoreFocus) {
      if (closed) return;
      closed = true;
      clearInterval(timer); clearInterval(watching); observer.disconnect();
      document.removeEventListener("keydown", onKey, true);
      if (host.parentNode) host.parentNode.removeChild(host);
      if (restoreFocus && previousFocus && previousFocus.focus) previousFocus.focus({ preventScroll: true });
    }
    function dismiss(how) { // close button or backdrop: "close"; Esc: "esc"; don't show again: "never"
      if (closed || !seen) return;
      beacon(Object.assign({ visitor_id: visitorId, event: "dismiss", how: how }, signedCustomer(), ids));
      teardown(true);
    }
    function onKey(e) {
      if (e.key === "Escape") { e.preventDefault(); dismiss("esc"); return; }
      if (e.key !== "Tab") return; // keep focus inside the dialog
      var items = Array.prototype.filter.call(root.querySelectorAll("button,input"), function (item) {
        return !item.disabled && item.getClientRects().length > 0;
      });
      if (!items.length) return;
      var first = items[0], last = items[items.length - 1], active = root.activeElement;
      if (e.shiftKey && (active === first || items.indexOf(active) < 0)) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && (active === last || items.indexOf(active) < 0)) { e.preventDefault(); first.focus(); }
    }
    close.addEventListener("click", function () { dismiss("close"); });
    backdrop.addEventListener("click", function (e) { if (e.target === backdrop) dismiss("close"); });
    never.addEventListener("click", function () { store.setItem(dismissedKey, String(Date.now())); dismiss("never"); });
    use.addEventListener("click", function () {
      if (!hasCode) { teardown(true); return; } // a message: its button just closes it
      var done = function () { status.textContent = say("copied", { code: offer.code }); };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(offer.code).then(done, done); else done();
      beacon(Object.assign({ event: "claim" }, ids));
      document.dispatchEvent(new CustomEvent("offboard:apply", { detail: { code: offer.code } }));
    });
    emailToggle.addEventListener("click", function () { form.hidden = false; input.focus(); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      post("/offers/email", { site_key: siteKey, code: offer.code, email: input.value }).then(function (r) {
        status.textContent = r.ok ? say("sent") : say("failed");
        if (r.ok) { input.value = ""; form.hidden = true; }
      }).catch(function () { status.textContent = say("failed"); });
    });
  }

  window.offboard = {
    converted: function () {
      return post("/offers/conversions", { site_key: siteKey, visitor_id: visitorId }, true).catch(function () {});
    }
  };
})();
