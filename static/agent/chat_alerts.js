// The header's waiting-chats counter: live on "chats_waiting" hints over /ws/agent/, polled
// as a fallback (often while the socket is down, now and then while it is up). When a new
// chat starts waiting it plays a short tone (Web Audio, no file) unless muted, and the tab
// title carries the count: "(2) …". The mute choice is kept in localStorage.
(function () {
  "use strict";
  if (!document.getElementById("waiting-chats")) return;  // not an agent's page
  var MUTE_KEY = "helpdesk.chatAlerts.muted";
  var POLL_LIVE = 60000, POLL_OFFLINE = 15000;
  var live = window.HelpdeskLive;
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var known = null;      // the count last shown; null until the first render
  var clockOffset = 0;   // server clock minus this browser's, so waits are not skewed
  var audio = null;
  var timer = null;

  function bar() { return document.getElementById("waiting-chats"); }
  function muted() {
    try { return window.localStorage.getItem(MUTE_KEY) === "1"; } catch (e) { return false; }
  }
  function setMuted(on) {
    try { window.localStorage.setItem(MUTE_KEY, on ? "1" : "0"); } catch (e) { /* private mode */ }
    showMute();
  }
  function showMute() {
    var button = document.getElementById("chat-alerts-mute");
    if (!button) return;
    var on = muted();
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.textContent = on ? "Unmute" : "Mute";
    var label = on ? "Unmute the sound for new chats" : "Mute the sound for new chats";
    button.setAttribute("aria-label", label);
    button.title = label;
  }

  // Same wording as chat_tags.wait_text on the server.
  function waitText(seconds) {
    var minutes = Math.floor(seconds / 60);
    if (minutes < 1) return "<1 min";
    if (minutes < 60) return minutes + " min";
    var rest = minutes % 60;
    return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " min";
  }
  function tick() {
    var el = bar(), wait = document.getElementById("waiting-chats-wait");
    if (!el || !wait || !el.dataset.since) return;
    var seconds = Math.max(0, (Date.now() + clockOffset - Date.parse(el.dataset.since)) / 1000);
    wait.textContent = waitText(seconds);
  }

  function audioContext() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!audio) audio = new Ctx();
    if (audio.state === "suspended") audio.resume();
    return audio;
  }
  // Two short rising notes with a soft attack and release: audible, not alarming.
  function chime() {
    var root = document.documentElement;
    root.dataset.chatChimes = String((parseInt(root.dataset.chatChimes, 10) || 0) + 1);
    if (muted()) return;
    var ctx = audioContext();
    if (!ctx) return;
    [[880, 0], [1320, 0.16]].forEach(function (note) {
      var osc = ctx.createOscillator(), gain = ctx.createGain(), at = ctx.currentTime + note[1];
      osc.type = "sine";
      osc.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.14);
      osc.connect(gain).connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.15);
    });
  }
  // Browsers start audio only after a gesture on the page: unlock it on the first one.
  function unlock() { audioContext(); }
  document.addEventListener("pointerdown", unlock, { once: true });
  document.addEventListener("keydown", unlock, { once: true });

  function apply() {
    var el = bar();
    if (!el) return;
    var count = parseInt(el.dataset.count, 10) || 0;
    if (el.dataset.now) clockOffset = Date.parse(el.dataset.now) - Date.now();
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
    if (known !== null && count > known) chime();
    known = count;
    showMute();
    tick();
  }

  var pending = null;
  function refresh() {
    clearTimeout(pending);
    pending = setTimeout(function () {
      var el = bar();
      if (!el) return;
      fetch(el.dataset.url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          var current = bar();
          if (!html || !current) return;
          var tpl = document.createElement("template");
          tpl.innerHTML = html.trim();
          var fresh = tpl.content.getElementById("waiting-chats");
          if (!fresh) return;
          current.replaceWith(fresh);
          apply();
        })
        .catch(function () { /* offline: the next poll tries again */ });
    }, 200);
  }

  function poll() {
    clearTimeout(timer);
    var status = document.getElementById("live-status");
    var up = status && status.dataset.state === "live";
    timer = setTimeout(function () { refresh(); poll(); }, up ? POLL_LIVE : POLL_OFFLINE);
  }

  document.addEventListener("click", function (e) {
    if (e.target.closest("#chat-alerts-mute")) setMuted(!muted());
  });
  window.addEventListener("storage", function (e) { if (e.key === MUTE_KEY) showMute(); });
  if (live) {
    live.onMessage(function (data) {
      if (data.type === "event" && data.payload.kind === "chats_waiting") refresh();
    });
    live.onOpen.push(function (reconnected) { if (reconnected) refresh(); poll(); });
  }
  apply();
  poll();
  setInterval(tick, 15000);
})();
