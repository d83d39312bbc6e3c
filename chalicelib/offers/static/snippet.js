/* offboard exit-intent snippet. Add to a page:
 *   <script src="https://OFFBOARD/offers/snippet.js" data-site-key="SITE_KEY" async></script>
 * Optional: data-cart-value, data-currency, data-min-seconds (default 4), data-sensitivity (px, default 20),
 * window.offboardCustomer = true for signed-in customers; call window.offboard.converted() on order-complete pages.
 * It never blocks leaving: no beforeunload prompts, no history tricks. No dependencies, no cookies. */
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
  function post(path, body, keepalive) {
    // text/plain keeps this a "simple" cross-origin request: no preflight round trip.
    return fetch(api + path, { method: "POST", mode: "cors", credentials: "omit", keepalive: !!keepalive,
      headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body) });
  }

  function onExitIntent() {
    if (asked || store.getItem(dismissedKey)) return;
    if ((Date.now() - started) / 1000 < minSeconds) return;
    asked = true; // once per page view, whatever the answer
    var cart = window.offboardCart || {};
    var params = new URLSearchParams(location.search);
    post("/offers/decide", {
      site_key: siteKey, visitor_id: visitorId, session_id: sessionId, page_url: location.href,
      cart_value: Number(cart.value || data.cartValue || 0), currency: cart.currency || data.currency || undefined,
      device: device(), referrer: document.referrer || undefined, utm_source: params.get("utm_source") || undefined,
      known_customer: window.offboardCustomer === true, returning: returning,
      seconds_on_page: Math.round((Date.now() - started) / 1000)
    }).then(function (r) { return r.ok ? r.json() : null; })
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
    if (offer.kind === "percent") return offer.value + "% off";
    if (offer.kind === "amount") return offer.value + " " + offer.currency + " off";
    return "Free shipping";
  }

  function show(answer) {
    var offer = answer.offer, texts = offer.texts || {};
    var deadline = Date.now() + offer.expires_in_seconds * 1000;
    var host = document.createElement("div");
    host.setAttribute("data-offboard", "");
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    root.innerHTML =
      '<style>' +
      '.backdrop{position:fixed;inset:0;background:rgba(0,0,0,.45);display:flex;align-items:center;justify-content:center;z-index:2147483647;font:16px/1.45 system-ui,sans-serif}' +
      '.dialog{background:#fff;color:#1d1d1f;max-width:24rem;width:calc(100% - 2rem);border-radius:12px;padding:1.25rem 1.25rem 1rem;position:relative;box-shadow:0 10px 30px rgba(0,0,0,.25)}' +
      '@media (max-width:600px){.backdrop{align-items:flex-end}.dialog{width:100%;max-width:none;border-radius:12px 12px 0 0}}' +
      'h2{margin:0 2rem .4rem 0;font-size:1.25rem}.value{font-size:1.6rem;font-weight:700;margin:.2rem 0}' +
      '.code{font:600 1.3rem ui-monospace,monospace;letter-spacing:.08em;border:2px dashed #888;border-radius:8px;padding:.4rem .6rem;text-align:center;margin:.6rem 0}' +
      'button,input{font:inherit}button{min-height:44px;border-radius:8px;cursor:pointer;padding:.5rem .9rem}' +
      '.primary{background:#1f5fbf;color:#fff;border:0;width:100%;font-weight:600}.link{background:none;border:0;color:#1f5fbf;text-decoration:underline;padding:.4rem 0}' +
      '.close{position:absolute;top:.5rem;right:.5rem;background:none;border:0;font-size:1.5rem;line-height:1;min-width:44px}' +
      '.row{display:flex;gap:.5rem;margin-top:.5rem}.row input{flex:1;min-width:0;padding:.5rem;border:1px solid #aaa;border-radius:8px}' +
      '.small{font-size:.85rem;color:#555}:focus-visible{outline:3px solid #0a84ff;outline-offset:2px}' +
      '</style>' +
      '<div class="backdrop" part="backdrop"><div class="dialog" role="dialog" aria-modal="true" aria-labelledby="ob-title" aria-describedby="ob-body">' +
      '<button class="close" type="button" aria-label="Close">×</button>' +
      '<h2 id="ob-title"></h2><p class="value"></p><p id="ob-body"></p>' +
      '<div class="code" aria-label="Your code"></div>' +
      '<p class="small" role="timer" aria-live="off">Expires in <span class="countdown"></span></p>' +
      '<button class="primary use" type="button"></button>' +
      '<button class="link email-toggle" type="button">Email it to me for later</button>' +
      '<form class="email" hidden><label class="small" for="ob-email">Your email (used once to send the code, not kept)</label>' +
      '<div class="row"><input id="ob-email" type="email" autocomplete="email" required><button type="submit">Send</button></div></form>' +
      '<p class="small status" role="status"></p>' +
      '<button class="link never" type="button">Don\u2019t show this again</button>' +
      '</div></div>';
    function $(sel) { return root.querySelector(sel); }
    $("#ob-title").textContent = texts.headline || "Before you go";
    $(".value").textContent = describe(offer);
    $("#ob-body").textContent = texts.body || "";
    $(".code").textContent = offer.code;
    $(".use").textContent = texts.cta || "Copy code";
    var previousFocus = document.activeElement;
    document.body.appendChild(host);
    var timer = setInterval(tick, 1000); tick();
    function tick() {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      $(".countdown").textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2);
      if (!left) { clearInterval(timer); $(".use").disabled = true; $(".status").textContent = "This code has expired."; }
    }
    function close() {
      clearInterval(timer); document.removeEventListener("keydown", onKey, true);
      if (host.parentNode) host.parentNode.removeChild(host);
      if (previousFocus && previousFocus.focus) previousFocus.focus();
    }
    function onKey(e) {
      if (e.key === "Escape") { e.preventDefault(); close(); return; }
      if (e.key !== "Tab") return; // keep focus inside the dialog
      var items = Array.prototype.filter.call(root.querySelectorAll("button,input"), function (el) { return !el.disabled && el.offsetParent !== null; });
      var first = items[0], last = items[items.length - 1], active = root.activeElement || document.activeElement;
      if (e.shiftKey && active === first) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && active === last) { e.preventDefault(); first.focus(); }
    }
    document.addEventListener("keydown", onKey, true);
    $(".close").addEventListener("click", close);
    $(".backdrop").addEventListener("click", function (e) { if (e.target === $(".backdrop")) close(); });
    $(".never").addEventListener("click", function () { store.setItem(dismissedKey, String(Date.now())); close(); });
    var beacon = { site_key: siteKey, code: offer.code, campaign_id: answer.campaign_id, variant_id: answer.variant_id };
    $(".use").addEventListener("click", function () {
      var done = function () { $(".status").textContent = "Copied " + offer.code + ". Paste it at checkout."; };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(offer.code).then(done, done); else done();
      post("/offers/events", Object.assign({ event: "claim" }, beacon), true).catch(function () {});
      document.dispatchEvent(new CustomEvent("offboard:apply", { detail: { code: offer.code } }));
    });
    $(".email-toggle").addEventListener("click", function () { $(".email").hidden = false; $("#ob-email").focus(); });
    $(".email").addEventListener("submit", function (e) {
      e.preventDefault();
      var input = $("#ob-email");
      post("/offers/email", { site_key: siteKey, code: offer.code, email: input.value }).then(function (r) {
        $(".status").textContent = r.ok ? "Sent. Check your inbox." : "We could not send it. You can copy the code instead.";
        if (r.ok) { input.value = ""; $(".email").hidden = true; }
      }).catch(function () { $(".status").textContent = "We could not send it. You can copy the code instead."; });
    });
    $(".use").focus();
    post("/offers/events", Object.assign({ event: "impression" }, beacon), true).catch(function () {});
  }

  window.offboard = {
    converted: function () {
      return post("/offers/conversions", { site_key: siteKey, visitor_id: visitorId }, true).catch(function () {});
    }
  };
})();
