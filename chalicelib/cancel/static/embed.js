/* offboard cancellation flow, embedded in the business's own page. Once your server opened a session
 * (POST /v1/cancel-sessions) and listed this page's origin in the flow's `embed_origins`:
 *   <div id="offboard-cancel"></div>
 *   <script src="https://OFFBOARD/cancel/embed/snippet.js" data-url="SESSION_URL" data-target="offboard-cancel" async></script>
 * Optional: data-title (the frame's accessible name, default "Cancel your subscription"), data-height (px, default 640).
 * The flow runs in a frame of the hosted page: the same two clicks, the same signed link, nothing of the page
 * around it. Content-Security-Policy: it needs only `script-src` and `frame-src` for the OFFBOARD origin. Its styles
 * are a constructable stylesheet adopted by its shadow root (not governed by `style-src`); it writes no <style>
 * element, no style attribute and no HTML strings (Trusted Types friendly). No cookies, no storage. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var data = script.dataset;
  var api = script.src.replace(/\/cancel\/embed\/snippet\.js.*$/, "");
  var url = data.url || "";
  // Only a hosted page of the same service: a page cannot be made to frame anything else through this tag.
  if (url.indexOf(api + "/cancel/") !== 0 || /[\s"'<>]/.test(url)) return;
  var height = Math.max(320, Math.min(2000, parseInt(data.height || "640", 10) || 640));

  var frame = document.createElement("iframe");
  frame.src = url;
  frame.title = data.title || "Cancel your subscription";
  frame.referrerPolicy = "no-referrer";
  frame.setAttribute("width", "100%");
  frame.setAttribute("height", String(height));
  // Forms and a link back to the top page; no scripts, popups or downloads.
  frame.setAttribute("sandbox", "allow-forms allow-same-origin allow-top-navigation-by-user-activation");

  var host = document.createElement("div");
  host.setAttribute("data-offboard-cancel", "");
  var canStyle = typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype &&
    typeof ShadowRoot === "function" && "adoptedStyleSheets" in ShadowRoot.prototype &&
    typeof Element.prototype.attachShadow === "function";
  if (canStyle) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(":host{display:block}iframe{display:block;width:100%;border:0;background:#fff}");
    var root = host.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [sheet];
    root.appendChild(frame);
  } else {
    host.appendChild(frame); // unstyled: the frame's own border, still usable
  }
  var target = data.target && document.getElementById(data.target);
  if (target) target.appendChild(host);
  else script.parentNode.insertBefore(host, script.nextSibling);
})();
