// Live updates for agent pages over /ws/agent/. Pushes are hints: on each hint (and on
// every reconnect) the page fetches what changed over HTTP, so a lost push or a restarted
// server loses nothing.
(function () {
  "use strict";
  var page = document.getElementById("agent-page");
  if (!page) return;
  var statusEl = document.getElementById("live-status");
  var socket = null;
  var retry = 0;
  var everOpen = false;
  var listeners = [];
  var paused = false;
  var HelpdeskLive = {
    page: page,
    userId: parseInt(page.dataset.userId, 10),
    onMessage: function (fn) { listeners.push(fn); },
    send: function (obj) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(obj));
    },
    onOpen: [],
    // Drop the connection and stay offline until resume(): what a restarted server or
    // Redis looks like to the page (the browser tests use it to check the resync).
    pause: function () { paused = true; if (socket) socket.close(); },
    resume: function () { paused = false; connect(); },
  };
  window.HelpdeskLive = HelpdeskLive;

  function setStatus(text) { if (statusEl) { statusEl.textContent = text; statusEl.dataset.state = text; } }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(proto + location.host + "/ws/agent/");
    socket.onopen = function () {
      var reconnected = everOpen;
      everOpen = true;
      retry = 0;
      setStatus("live");
      HelpdeskLive.onOpen.forEach(function (fn) { fn(reconnected); });
    };
    socket.onmessage = function (e) {
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      listeners.forEach(function (fn) { fn(data); });
    };
    socket.onclose = function (e) {
      setStatus("offline");
      if (e.code === 4403 || paused) return;  // not an agent: retrying will not help
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }

  // Queue page: subscribe to its queues, refresh rows and counts on hints (debounced).
  if (page.dataset.page === "queue") {
    var timer = null;
    var refresh = function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(location.pathname + location.search, {
          headers: { "HX-Request": "true", "HX-Target": "queue-live" },
          credentials: "same-origin",
        }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
          if (!html) return;
          var live = document.getElementById("queue-live");
          var checked = {};
          live.querySelectorAll("input[name=ids]:checked").forEach(function (b) { checked[b.value] = true; });
          var selected = document.querySelector("tr.ticket-row.selected");
          var selectedId = selected ? selected.dataset.ticketId : null;
          live.outerHTML = html;
          document.querySelectorAll("#queue-live input[name=ids]").forEach(function (b) { if (checked[b.value]) b.checked = true; });
          if (selectedId) {
            var row = document.querySelector('tr.ticket-row[data-ticket-id="' + selectedId + '"]');
            if (row) row.classList.add("selected");
          }
          document.dispatchEvent(new CustomEvent("helpdesk:queue-refreshed"));
        });
      }, 250);
    };
    HelpdeskLive.onOpen.push(function (reconnected) {
      (page.dataset.groups || "").split(" ").forEach(function (g) {
        if (g) HelpdeskLive.send({ action: "subscribe", queue: g });
      });
      if (reconnected) refresh();
    });
    HelpdeskLive.onMessage(function (data) {
      // The header's chat counter has its own hints (chat_alerts.js): not a queue change.
      if (data.type === "event" && data.payload.kind !== "chats_waiting") refresh();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", connect);
  else connect();
})();
