// Ticket page: delivery badges follow their delivery live (sent, delivered, undelivered,
// failed); on a chat ticket (body.chat-first) the timeline stays scrolled to the latest
// message above the composer, and Enter sends (Shift+Enter: a new line).
(function () {
  "use strict";
  var page = document.getElementById("agent-page");
  if (!page || page.dataset.page !== "ticket") return;
  var ticketId = parseInt(page.dataset.ticketId, 10);
  var live = window.HelpdeskLive;

  function updateBadge(p) {
    var badges = document.querySelectorAll("#msg-" + p.message_id + " .delivery .badge");
    // A chat reply has one delivery; with several (email copies) the first is the reply's.
    var badge = badges[0];
    if (!badge) return;
    var recipient = (badge.title || "").split(": ")[0];
    badge.className = "badge delivery-" + p.status;
    badge.textContent = p.label;  // text, never HTML
    badge.title = p.detail ? recipient + ": " + p.detail : recipient;
    badge.dataset.deliveryId = p.delivery_id;
  }
  var chatFirst = document.body.classList.contains("chat-first");
  var PENDING = ["queued", "sending", "sent", "undelivered"];

  // A chat reply can be confirmed between this page's render and its subscription (the
  // page reloads after sending): once subscribed, re-read the badges still pending.
  function resyncBadges() {
    var since = null;
    document.querySelectorAll(".msg .delivery .badge").forEach(function (badge) {
      var status = (badge.className.match(/delivery-(\w+)/) || [])[1];
      if (PENDING.indexOf(status) === -1) return;
      var stamp = badge.closest(".msg").querySelector("time[datetime]");
      if (stamp && (since === null || stamp.getAttribute("datetime") < since)) since = stamp.getAttribute("datetime");
    });
    if (since === null) return;
    fetch(page.dataset.timelineUrl + "?since=" + encodeURIComponent(since), {
      credentials: "same-origin", headers: { "HX-Request": "true" },
    }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
      if (!html) return;
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      tpl.content.querySelectorAll(".msg .delivery").forEach(function (fresh) {
        var shown = document.querySelector("#" + fresh.closest(".msg").id + " .delivery");
        if (shown) shown.replaceWith(fresh);
      });
    });
  }

  if (live) {
    live.onMessage(function (data) {
      if (data.type === "event" && data.payload.kind === "delivery" && data.payload.ticket === ticketId) {
        updateBadge(data.payload);
      } else if (chatFirst && data.type === "subscribed" && data.group === "ticket." + ticketId) {
        resyncBadges();
      }
    });
  }

  if (!chatFirst) return;
  var timeline = document.getElementById("timeline");
  var body = document.getElementById("composer-body");
  var send = document.getElementById("send");

  function toEnd() { if (timeline) timeline.scrollTop = timeline.scrollHeight; }
  toEnd();
  if (timeline && window.MutationObserver) {
    new MutationObserver(toEnd).observe(timeline, { childList: true });
  }
  if (body && send) {
    body.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || e.shiftKey || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
      e.preventDefault();
      if (body.value.trim()) send.click();
    });
    body.setAttribute("placeholder", "Write a reply… (Enter sends, Shift+Enter for a new line)");
  }
})();
