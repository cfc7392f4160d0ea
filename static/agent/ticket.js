// Ticket page: live timeline and header, presence, collision guard, macro picker, KB insert.
(function () {
  "use strict";
  var live = window.HelpdeskLive;
  var page = document.getElementById("agent-page");
  if (!page || page.dataset.page !== "ticket") return;
  var ticketId = parseInt(page.dataset.ticketId, 10);
  var me = parseInt(page.dataset.userId, 10);
  var syncedAt = page.dataset.syncedAt;
  var timeline = document.getElementById("timeline");
  var body = document.getElementById("composer-body");
  var form = document.getElementById("composer-form");
  var warning = document.getElementById("collision-warning");
  var confirmInput = document.getElementById("confirm-collision");
  var collided = false;
  var lastTyped = 0;

  function isColliding(el) {
    if (!el.dataset.messageId || el.dataset.internal === "1") return false;
    if (el.dataset.direction === "inbound") return true;
    return el.dataset.authorId && parseInt(el.dataset.authorId, 10) !== me;
  }

  // Items since the last sync; ones already shown (by id) are skipped, so a resync that
  // overlaps the previous one never duplicates.
  function syncTimeline() {
    var url = page.dataset.timelineUrl + "?since=" + encodeURIComponent(syncedAt);
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } }).then(function (r) {
      if (!r.ok) return;
      var stamp = r.headers.get("X-Synced-At");
      return r.text().then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html;
        Array.prototype.slice.call(tpl.content.children).forEach(function (el) {
          if (!el.id || document.getElementById(el.id)) return;
          timeline.appendChild(el);
          if (isColliding(el) && body && body.value.trim()) {
            collided = true;
            warning.hidden = false;
          }
        });
        if (stamp) syncedAt = stamp;
      });
    });
  }

  function refreshHeader() {
    fetch(page.dataset.headerUrl, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        var header = document.getElementById("ticket-header");
        if (!html || !header) return;
        if (header.contains(document.activeElement)) return;  // do not yank a field being edited
        header.outerHTML = html;
        var fresh = document.getElementById("ticket-header");
        if (window.htmx) window.htmx.process(fresh);
      });
  }

  function renderPresence(agents) {
    var el = document.getElementById("presence");
    el.textContent = "";
    agents.forEach(function (a) {
      if (a.user_id === me) return;
      var span = document.createElement("span");
      span.className = "presence-item presence-" + a.state;
      span.textContent = a.name + " is " + a.state;  // text, never HTML: names are user input
      el.appendChild(span);
    });
  }

  function myState() { return body && body.value.trim() && Date.now() - lastTyped < 20000 ? "replying" : "viewing"; }
  var announced = null;
  function announce(force) {
    var state = myState();
    if (!force && state === announced) return;
    announced = state;
    live.send({ action: "presence", ticket: ticketId, state: state });
  }

  if (live) {
    live.onOpen.push(function (reconnected) {
      live.send({ action: "subscribe", ticket: ticketId });
      announced = null;
      announce(true);
      if (reconnected) { syncTimeline(); refreshHeader(); }
    });
    live.onMessage(function (data) {
      if (data.type === "event" && data.payload.ticket_id === ticketId) {
        syncTimeline();
        refreshHeader();
      } else if (data.type === "presence" && data.ticket_id === ticketId) {
        renderPresence(data.agents);
      }
    });
    setInterval(function () { announce(true); }, 15000);
  }

  // A macro whose text is still on its way: a send waits for it, so "m, a few letters,
  // Enter, Ctrl+Enter" never sends an empty reply.
  var pendingMacro = null;

  if (body) {
    body.addEventListener("input", function () { lastTyped = Date.now(); announce(false); });
    body.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); document.getElementById("send").click(); }
    });
  }
  if (form) {
    form.addEventListener("submit", function (e) {
      if (pendingMacro) {
        e.preventDefault();
        var button = e.submitter;
        pendingMacro.then(function () { form.requestSubmit(button); });
        return;
      }
      if (collided && confirmInput && confirmInput.type === "hidden" && !confirmInput.value) {
        // First send after a collision: stop and show the warning; the next send goes.
        e.preventDefault();
        warning.hidden = false;
        confirmInput.value = "on";
        warning.scrollIntoView({ block: "center" });
      }
    });
  }

  // Macros: type to filter, arrows move the highlight, Enter applies it (the key m in
  // keys.js focuses the filter); a click applies too.
  var search = document.getElementById("macro-search");
  var effects = document.getElementById("macro-effects");
  var macroInput = document.getElementById("composer-macro");
  function options() {
    return Array.prototype.slice.call(document.querySelectorAll("#macro-list .macro-option"));
  }
  function visibleOptions() { return options().filter(function (a) { return !a.parentElement.hidden; }); }
  function highlight(option) {
    options().forEach(function (a) { a.classList.remove("active"); a.removeAttribute("aria-selected"); });
    if (!option) { search.removeAttribute("aria-activedescendant"); return; }
    option.classList.add("active");
    option.setAttribute("aria-selected", "true");
    search.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }
  function filterMacros() {
    var q = search.value.toLowerCase().trim();
    options().forEach(function (a) {
      a.parentElement.hidden = Boolean(q) && a.textContent.toLowerCase().indexOf(q) === -1;
    });
    var shown = visibleOptions();
    document.getElementById("macro-none").hidden = shown.length > 0 || !options().length;
    highlight(shown[0] || null);
  }
  function showEffects(changes) {
    if (!effects) return;
    document.getElementById("macro-effects-list").textContent = (changes || []).join("; ");
    effects.hidden = !(changes && changes.length);
  }
  function applyMacro(option) {
    var err = document.getElementById("macro-error");
    pendingMacro = fetch(option.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.error) { err.textContent = data.error; err.hidden = false; return; }
        err.hidden = true;
        insertText(data.body);
        macroInput.value = data.macro;
        showEffects(data.changes);
      })
      .catch(function () {
        err.textContent = "The macro could not be loaded. Check your connection and pick it again.";
        err.hidden = false;
      })
      .then(function () { pendingMacro = null; });
    if (body) body.focus();
  }
  if (search) {
    search.addEventListener("input", filterMacros);
    search.addEventListener("focus", filterMacros);
    search.addEventListener("keydown", function (e) {
      var shown = visibleOptions();
      var at = shown.indexOf(document.querySelector("#macro-list .macro-option.active"));
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!shown.length) return;
        var step = e.key === "ArrowDown" ? 1 : -1;
        highlight(shown[(at + step + shown.length) % shown.length]);
      } else if (e.key === "Enter") {
        e.preventDefault();
        if (shown[at]) applyMacro(shown[at]);
      } else if (e.key === "Escape") {
        search.value = "";
        filterMacros();
        highlight(null);
        search.blur();
      }
    });
  }
  var drop = document.getElementById("macro-effects-drop");
  if (drop) {
    drop.addEventListener("click", function () { macroInput.value = ""; showEffects([]); });
  }
  function insertText(text) {
    if (!body) return;
    var start = body.selectionStart || 0, end = body.selectionEnd || 0;
    body.value = body.value.slice(0, start) + text + body.value.slice(end);
    body.focus();
    lastTyped = Date.now();
    announce(false);
  }
  document.addEventListener("click", function (e) {
    var macro = e.target.closest(".macro-option");
    if (macro) {
      e.preventDefault();
      applyMacro(macro);
      return;
    }
    var kb = e.target.closest(".kb-insert");
    if (kb) {
      e.preventDefault();
      insertText(kb.dataset.title + "\n" + kb.dataset.excerpt + (kb.dataset.url ? "\n" + kb.dataset.url : ""));
    }
  });

  // The subject box wraps like text but is one line: Enter saves it.
  document.addEventListener("keydown", function (e) {
    var box = e.target.closest && e.target.closest("textarea[data-one-line]");
    if (!box || e.key !== "Enter" || e.shiftKey) return;
    e.preventDefault();
    if (box.form.requestSubmit) box.form.requestSubmit(); else box.form.submit();
  });
})();
