/*
 * Help desk chat widget. No dependencies, no build step. Embed with one tag:
 *
 *   <script src="https://desk.example.com/static/chat/widget.js"
 *           data-channel="PUBLIC_KEY" data-server="https://desk.example.com" async></script>
 *
 * Optional: data-color="#0a7d38" and data-greeting="..." override the channel's settings;
 * data-title="Chat with us" names the panel; data-open="true" opens it on load.
 *
 * The visitor's signed token is kept in localStorage, so a returning visitor resumes the
 * same conversation. Everything the visitor or an agent wrote is shown with textContent,
 * never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-channel]");
  if (!script || window.__helpdeskChatLoaded) return;
  window.__helpdeskChatLoaded = true;

  var cfg = {
    channel: script.getAttribute("data-channel") || "",
    server: (script.getAttribute("data-server") || new URL(script.src).origin).replace(/\/$/, ""),
    colour: script.getAttribute("data-color") || "",
    greeting: script.getAttribute("data-greeting") || "",
    title: script.getAttribute("data-title") || "Chat with us",
    open: script.getAttribute("data-open") === "true",
  };
  var TOKEN_KEY = "helpdesk-chat-token:" + cfg.channel;
  var SKIP_KEY = "helpdesk-chat-skipped:" + cfg.channel;
  var OUTBOX_KEY = "helpdesk-chat-outbox:" + cfg.channel;

  function store(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: the session lasts as long as the page */ }
  }
  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function uuid() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "m" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  // --- DOM, inside a shadow root so the host page's CSS neither breaks nor sees it ------
  var host = el("div", { id: "helpdesk-chat" });
  document.body.appendChild(host);
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;

  var style = el("style");
  style.textContent = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;",
    "border-radius:50%;border:0;background:var(--hd-colour);color:#fff;cursor:pointer;",
    "box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center}",
    ".launcher:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{",
    "outline:3px solid #111;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:360px;max-width:calc(100vw - 40px);",
    "height:520px;max-height:calc(100vh - 120px);display:flex;flex-direction:column;background:#fff;",
    "color:#111;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden;font-size:15px}",
    ".panel[hidden]{display:none}",
    "header{background:var(--hd-colour);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    "header h2{font-size:16px;margin:0;flex:1}",
    "header button{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;min-width:44px;min-height:44px}",
    ".status{margin:0;padding:6px 14px;background:#fff7e0;color:#5c4400;font-size:13px}",
    ".status:empty{display:none}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;margin:0;list-style:none}",
    ".msg{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}",
    ".msg.in{align-self:flex-end;background:var(--hd-colour);color:#fff}",
    ".msg.out{align-self:flex-start;background:#eef0f3}",
    ".msg.note{align-self:center;background:transparent;color:#555;font-size:13px;text-align:center}",
    ".msg.pending{opacity:.6}",
    ".msg .who{display:block;font-size:12px;font-weight:600;margin-bottom:2px}",
    ".typing{padding:0 14px 6px;color:#555;font-size:13px;min-height:1.2em}",
    "form{padding:10px 12px;border-top:1px solid #e3e5e8;display:flex;flex-direction:column;gap:8px}",
    "form[hidden]{display:none}",
    "label{font-size:13px;font-weight:600}",
    "input,textarea{width:100%;font:inherit;padding:8px;border:1px solid #9aa1ab;border-radius:8px}",
    "textarea{resize:none;min-height:44px}",
    ".row{display:flex;gap:8px;align-items:flex-end}",
    ".row textarea{flex:1}",
    "button.primary{background:var(--hd-colour);color:#fff;border:0;border-radius:8px;padding:10px 14px;",
    "font:inherit;font-weight:600;cursor:pointer;min-height:44px}",
    "button.link{background:none;border:0;color:#1d4ed8;text-decoration:underline;cursor:pointer;",
    "font:inherit;font-size:13px;padding:4px;align-self:flex-start}",
    ".error{color:#a40000;font-size:13px}",
    ".error:empty{display:none}",
    ".badge{position:absolute;top:-2px;right:-2px;min-width:20px;height:20px;border-radius:10px;",
    "background:#c00;color:#fff;font-size:12px;font-weight:700;line-height:20px;text-align:center;padding:0 5px}",
    ".badge[hidden]{display:none}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;",
    "max-height:100%;border-radius:0}.launcher{right:14px;bottom:14px}}",
  ].join("");
  root.appendChild(style);

  var launcher = el("button", {
    class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false",
    "aria-controls": "hd-panel",
  });
  // A speech bubble drawn inline: no icon font or image request on the host page.
  var SVG = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(SVG, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("width", "28");
  icon.setAttribute("height", "28");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var bubblePath = document.createElementNS(SVG, "path");
  bubblePath.setAttribute("fill", "currentColor");
  bubblePath.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  icon.appendChild(bubblePath);
  launcher.appendChild(icon);
  var badge = el("span", { class: "badge", "aria-hidden": "true", hidden: "" });
  launcher.appendChild(badge);
  var panel = el("section", {
    class: "panel", id: "hd-panel", role: "dialog", "aria-label": cfg.title, hidden: "",
  });
  var header = el("header");
  var title = el("h2", {}, cfg.title);
  var close = el("button", { type: "button", "aria-label": "Close chat" }, "\u00D7");
  header.appendChild(title);
  header.appendChild(close);
  var status = el("p", { class: "status", role: "status", "aria-live": "polite" });
  var log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
  var typing = el("div", { class: "typing", "aria-live": "polite" });

  // Pre-chat form: name and email (required or optional per channel).
  var prechat = el("form", { class: "prechat", hidden: "", "aria-label": "Introduce yourself" });
  var preName = el("input", { id: "hd-name", name: "name", autocomplete: "name", maxlength: "200" });
  var preEmail = el("input", {
    id: "hd-email", name: "email", type: "email", autocomplete: "email", maxlength: "320",
  });
  var preError = el("p", { class: "error", role: "alert" });
  var preSubmit = el("button", { class: "primary", type: "submit" }, "Start chat");
  var preSkip = el("button", { class: "link", type: "button" }, "Skip");
  prechat.appendChild(el("label", { for: "hd-name" }, "Your name"));
  prechat.appendChild(preName);
  prechat.appendChild(el("label", { for: "hd-email" }, "Your email"));
  prechat.appendChild(preEmail);
  prechat.appendChild(preError);
  prechat.appendChild(preSubmit);
  prechat.appendChild(preSkip);

  // Live chat composer.
  var compose = el("form", { class: "compose", hidden: "", "aria-label": "Send a message" });
  var input = el("textarea", { id: "hd-input", name: "message", rows: "2", maxlength: "5000" });
  var send = el("button", { class: "primary", type: "submit" }, "Send");
  var composeError = el("p", { class: "error", role: "alert" });
  var transcript = el("button", { class: "link", type: "button" }, "Email me this conversation");
  var composeRow = el("div", { class: "row" });
  compose.appendChild(el("label", { for: "hd-input", class: "sr" }, "Message"));
  composeRow.appendChild(input);
  composeRow.appendChild(send);
  compose.appendChild(composeRow);
  compose.appendChild(composeError);
  compose.appendChild(transcript);

  // Offline message form: no agent online, the answer comes by email.
  var offline = el("form", { class: "offline", hidden: "", "aria-label": "Leave a message" });
  var offName = el("input", { id: "hd-off-name", name: "name", autocomplete: "name", maxlength: "200" });
  var offEmail = el("input", {
    id: "hd-off-email", name: "email", type: "email", autocomplete: "email", required: "",
    maxlength: "320",
  });
  var offText = el("textarea", { id: "hd-off-text", name: "message", rows: "4", required: "", maxlength: "5000" });
  var offError = el("p", { class: "error", role: "alert" });
  offline.appendChild(el("label", { for: "hd-off-name" }, "Your name"));
  offline.appendChild(offName);
  offline.appendChild(el("label", { for: "hd-off-email" }, "Your email (we reply there)"));
  offline.appendChild(offEmail);
  offline.appendChild(el("label", { for: "hd-off-text" }, "Your message"));
  offline.appendChild(offText);
  offline.appendChild(offError);
  offline.appendChild(el("button", { class: "primary", type: "submit" }, "Send message"));

  [header, status, log, typing, prechat, compose, offline].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);
  root.appendChild(panel);

  function setColour(colour) {
    host.style.setProperty("--hd-colour", colour || "#2563eb");
  }
  setColour(cfg.colour);

  // --- state ----------------------------------------------------------------------------
  var state = {
    socket: null, ready: false, retry: 0, welcome: null, email: "", skipped: false,
    online: true, pending: {}, typingSent: false, typingTimer: null, statusTimer: null,
    shown: {}, unread: 0,
  };

  function setUnread(count) {
    state.unread = count;
    badge.textContent = String(count);
    badge.hidden = count === 0;
    if (panel.hidden) {
      launcher.setAttribute("aria-label", count ? "Open chat, " + count + " new" : "Open chat");
    }
  }

  function outbox() {
    try { return JSON.parse(load(OUTBOX_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveOutbox(items) { store(OUTBOX_KEY, items.length ? JSON.stringify(items) : null); }

  function addBubble(kind, text, who, id) {
    if (id && state.shown[id]) return state.shown[id];
    var item = el("li", { class: "msg " + kind });
    if (who) item.appendChild(el("span", { class: "who" }, who));
    item.appendChild(document.createTextNode(text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (id) state.shown[id] = item;
    return item;
  }

  function render() {
    var w = state.welcome;
    if (!w) return;
    var needIntro = !state.email && (w.require_email || !state.skipped);
    prechat.hidden = !state.online || !needIntro;
    preSkip.hidden = !!w.require_email;
    compose.hidden = !state.online || needIntro;
    offline.hidden = state.online;
    transcript.hidden = !state.email;
    status.textContent = state.online
      ? ""
      : "No one is online right now. Leave a message and we will reply by email.";
  }

  // --- connection -----------------------------------------------------------------------
  function connect() {
    var url = cfg.server.replace(/^http/, "ws") + "/ws/chat/?channel=" + encodeURIComponent(cfg.channel);
    var socket = new WebSocket(url);
    state.socket = socket;
    socket.onopen = function () {
      state.retry = 0;
      var token = load(TOKEN_KEY);
      socket.send(JSON.stringify(token ? { type: "hello", token: token } : { type: "hello" }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    };
    socket.onclose = function (event) {
      state.ready = false;
      host.removeAttribute("data-ready");
      if (event.code === 4403) {
        status.textContent = "Chat is not available on this page.";
        return;
      }
      if (event.code === 4401) store(TOKEN_KEY, null); // start a fresh session
      var wait = Math.min(30000, 1000 * Math.pow(2, state.retry++));
      setTimeout(connect, event.code === 4401 ? 0 : wait);
    };
  }

  function sendFrame(frame) {
    if (!state.ready || !state.socket || state.socket.readyState !== 1) return false;
    state.socket.send(JSON.stringify(frame));
    return true;
  }

  function flushOutbox() {
    outbox().forEach(function (item) { sendFrame({ type: "message", id: item.id, text: item.text }); });
  }

  function handle(frame) {
    switch (frame.type) {
      case "welcome":
        state.ready = true;
        host.setAttribute("data-ready", "true"); // for host pages (and tests) that wait on it
        state.welcome = frame;
        state.email = frame.email || "";
        state.online = !!frame.agents_online;
        // A returning visitor who already chatted is not asked to introduce themselves again.
        state.skipped = state.skipped || load(SKIP_KEY) === "1" || (frame.history || []).length > 0;
        store(TOKEN_KEY, frame.token);
        if (!cfg.colour) setColour(frame.colour);
        log.textContent = "";
        state.shown = {};
        addBubble("note", cfg.greeting || frame.greeting);
        (frame.history || []).forEach(function (m) {
          addBubble(m.direction === "inbound" ? "in" : "out", m.text,
            m.direction === "inbound" ? "" : (m.author || "Support"), m.id);
        });
        outbox().forEach(function (item) { addBubble("in pending", item.text, "", item.id); });
        render();
        flushOutbox();
        // Replies sent while the visitor was away reached them now, with the history.
        var replies = (frame.history || []).filter(function (m) { return m.direction !== "inbound"; })
          .map(function (m) { return m.id; });
        if (replies.length) sendFrame({ type: "received", ids: replies });
        break;
      case "identified":
        state.email = frame.email;
        preError.textContent = "";
        render();
        input.focus();
        break;
      case "ack":
        if (frame.offline) {
          offline.reset();
          addBubble("note", "Thanks! We got your message and will reply by email.");
        } else {
          saveOutbox(outbox().filter(function (item) { return item.id !== frame.id; }));
          var bubble = state.shown[frame.id];
          if (bubble) bubble.className = "msg in";
        }
        break;
      case "message":
        typing.textContent = "";
        if (panel.hidden && frame.direction !== "inbound") setUnread(state.unread + 1);
        addBubble(frame.direction === "inbound" ? "in" : "out", frame.text,
          frame.direction === "inbound" ? "" : (frame.author || "Support"), frame.id);
        // Tell the server this socket got the reply: the agent sees it delivered.
        if (frame.direction !== "inbound" && frame.id) sendFrame({ type: "received", id: frame.id });
        break;
      case "typing":
        typing.textContent = frame.typing ? (frame.author || "Support") + " is typing\u2026" : "";
        break;
      case "status":
        if (state.online !== !!frame.agents_online) {
          state.online = !!frame.agents_online;
          render();
        }
        break;
      case "transcript_sent":
        addBubble("note", "We sent this conversation to " + frame.email + ".");
        break;
      case "error":
        showError(frame);
        break;
    }
  }

  function showError(frame) {
    if (frame.id && state.shown[frame.id]) {
      // Not stored: put the text back so nothing the visitor wrote is lost.
      var lost = outbox().filter(function (item) { return item.id === frame.id; })[0];
      saveOutbox(outbox().filter(function (item) { return item.id !== frame.id; }));
      state.shown[frame.id].remove();
      delete state.shown[frame.id];
      if (lost && !input.value) input.value = lost.text;
    }
    if (frame.code === "identify_first") {
      state.skipped = false;
      state.email = "";
      render();
    }
    var target = !prechat.hidden ? preError : !offline.hidden ? offError : composeError;
    target.textContent = frame.message || "Something went wrong. Try again.";
  }

  // --- events ---------------------------------------------------------------------------
  function openPanel() {
    panel.hidden = false;
    setUnread(0);
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat");
    if (!state.socket) connect();
    var first = [preName, input, offName].filter(function (n) { return !n.closest("form").hidden; })[0];
    setTimeout(function () { (first || close).focus(); }, 0);
    sendFrame({ type: "status" });
    state.statusTimer = setInterval(function () { sendFrame({ type: "status" }); }, 30000);
  }
  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat");
    clearInterval(state.statusTimer);
    launcher.focus();
  }
  launcher.addEventListener("click", function () { panel.hidden ? openPanel() : closePanel(); });
  close.addEventListener("click", closePanel);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });

  prechat.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!preEmail.value.trim()) {
      preError.textContent = "Enter your email address so we can follow up.";
      preEmail.focus();
      return;
    }
    sendFrame({ type: "identify", name: preName.value, email: preEmail.value });
  });
  preSkip.addEventListener("click", function () {
    state.skipped = true;
    store(SKIP_KEY, "1");
    render();
    input.focus();
  });

  function stopTyping() {
    clearTimeout(state.typingTimer);
    if (state.typingSent) sendFrame({ type: "typing", typing: false });
    state.typingSent = false;
  }
  input.addEventListener("input", function () {
    if (!state.typingSent) sendFrame({ type: "typing", typing: true });
    state.typingSent = true;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(stopTyping, 4000);
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter makes a new line (as in most chat apps).
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      compose.requestSubmit ? compose.requestSubmit() : compose.dispatchEvent(new Event("submit"));
    }
  });
  compose.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    composeError.textContent = "";
    var item = { id: uuid(), text: text };
    // Kept until acknowledged: a dropped connection resends it (the server dedups on id).
    saveOutbox(outbox().concat([item]));
    addBubble("in pending", text, "", item.id);
    input.value = "";
    stopTyping();
    sendFrame({ type: "message", id: item.id, text: text });
  });
  transcript.addEventListener("click", function () { sendFrame({ type: "transcript" }); });
  offline.addEventListener("submit", function (event) {
    event.preventDefault();
    offError.textContent = "";
    sendFrame({
      type: "offline", id: uuid(), name: offName.value, email: offEmail.value, text: offText.value,
    });
  });

  if (cfg.open) openPanel();
  else if (load(TOKEN_KEY)) connect(); // a returning visitor gets replies while closed
})();
