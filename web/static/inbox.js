// InTime console, inbox page: new notifications appear live over Server-Sent Events
// with the browser's own EventSource (same origin, the session cookie). No library.
// SPDX-License-Identifier: Proprietary (part of InTime, like the rest of the repository)
(function () {
  "use strict";
  var list = document.getElementById("notifications");
  var template = document.getElementById("notification-template");
  var badge = document.getElementById("unread-badge");
  var status = document.getElementById("live-status");
  if (!list || !template || !window.EventSource) { return; }
  var from = list.getAttribute("data-stream-from");
  var url = "/notifications/stream" + (from ? "?last_event_id=" + encodeURIComponent(from) : "");
  var source = new EventSource(url, { withCredentials: true });

  function safeUrl(value) {
    if (typeof value !== "string") { return null; }
    if (value.charAt(0) === "/" && value.charAt(1) !== "/") { return value; }
    return /^https?:\/\//i.test(value) ? value : null;
  }

  source.addEventListener("notification", function (event) {
    var n;
    try { n = JSON.parse(event.data); } catch (e) { return; }
    if (!n || !n.id || list.querySelector('[data-id="' + CSS.escape(String(n.id)) + '"]')) { return; }
    var item = template.content.firstElementChild.cloneNode(true);
    item.setAttribute("data-id", n.id);
    var title = item.querySelector(".item-title");
    var href = safeUrl(n.action_url);
    if (href) {
      var link = document.createElement("a");
      link.href = href;
      link.textContent = n.title || "";
      title.appendChild(link);
    } else {
      title.textContent = n.title || "";
    }
    item.querySelector(".item-text").textContent = n.message || "";
    item.querySelector(".meta").textContent = (n.category || n.type || "") + " · just now";
    item.querySelectorAll('input[name="id"]').forEach(function (input) { input.value = n.id; });
    var empty = list.querySelector(".empty-state");
    if (empty) { empty.remove(); }
    list.insertBefore(item, list.firstChild);
    if (!n.read_at) { setBadge((parseInt(badge.textContent, 10) || 0) + 1); }
  });

  function setBadge(count) {
    badge.textContent = String(count);
    badge.classList.toggle("empty", !count);
  }

  source.addEventListener("unread_count", function (event) {
    try {
      setBadge(JSON.parse(event.data).unread_count);
    } catch (e) { /* a malformed event changes nothing */ }
  });

  // More arrived than the stream replays (a burst, or a long time away): the list
  // is missing some, so it is loaded afresh. Not twice within a minute, and not
  // where the time of the last reload cannot be kept (storage blocked): then the
  // page says so instead of reloading again and again.
  var stale = "";
  source.addEventListener("reset", function () {
    var key = "intime.inbox.reset-at";
    var now = Date.now();
    try {
      var last = parseInt(window.sessionStorage.getItem(key), 10) || 0;
      if (now - last >= 60000) {
        window.sessionStorage.setItem(key, String(now));
        source.close();
        window.location.reload();
        return;
      }
    } catch (e) { /* no storage: no reload */ }
    stale = "More notifications arrived than shown: reload the page.";
    status.textContent = stale;
  });

  source.addEventListener("open", function () {
    status.textContent = stale || "Live: new notifications appear here.";
  });
  source.addEventListener("error", function () {
    status.textContent = source.readyState === EventSource.CLOSED
      ? "Live updates stopped: reload the page." : stale || "Reconnecting…";
  });
})();
