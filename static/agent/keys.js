// Keyboard shortcuts: j/k move in a queue, Enter opens, r reply, n note, m macro, a assign
// to me, s solve (both undoable for 5 s with z, Ctrl+Z or the notice's button), / search,
// ? shows the list. Ignored while typing in a field.
(function () {
  "use strict";
  var UNDO_MS = 5000;
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr.ticket-row")); }
  function move(delta) {
    var all = rows();
    if (!all.length) return;
    var i = all.findIndex(function (r) { return r.classList.contains("selected"); });
    var next = i === -1 ? 0 : Math.max(0, Math.min(all.length - 1, i + delta));
    all.forEach(function (r) { r.classList.remove("selected"); r.removeAttribute("aria-selected"); });
    all[next].classList.add("selected");
    all[next].setAttribute("aria-selected", "true");
    all[next].scrollIntoView({ block: "nearest" });
  }
  function selectedRow() { return document.querySelector("tr.ticket-row.selected"); }
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // --- changes that wait UNDO_MS before they are written -------------------------------
  // One at a time: a second one commits the first. Leaving the page while one waits
  // writes it at once with sendBeacon (the page cannot wait for a reply any more), so
  // nothing the agent asked for is silently lost; Undo is the only way to drop it.
  var pending = null;

  function toast() {
    var el = document.getElementById("undo-toast");
    if (el) return el;
    el = document.createElement("div");
    el.id = "undo-toast";
    el.className = "undo-toast";
    el.setAttribute("role", "status");
    el.setAttribute("aria-live", "polite");
    el.hidden = true;
    var text = document.createElement("span");
    text.id = "undo-text";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small";
    button.id = "undo-button";
    button.textContent = "Undo (z)";
    button.addEventListener("click", function () { undo(); });
    el.appendChild(text);
    el.appendChild(button);
    document.body.appendChild(el);
    return el;
  }
  function say(message) {
    var el = toast();
    document.getElementById("undo-text").textContent = message;  // text: subjects are user input
    el.hidden = false;
  }
  function later(label, run, beacon) {
    if (pending) commit();
    var change = { run: run, beacon: beacon };
    change.timer = setTimeout(function () { if (pending === change) commit(); }, UNDO_MS);
    pending = change;
    say(label);
  }
  function commit() {
    var change = pending;
    if (!change) return;
    pending = null;
    clearTimeout(change.timer);
    toast().hidden = true;
    change.run();
  }
  function undo() {
    if (!pending) return false;
    clearTimeout(pending.timer);
    pending = null;
    say("Undone: nothing was changed.");
    setTimeout(function () { if (!pending) toast().hidden = true; }, 2000);
    return true;
  }
  window.addEventListener("pagehide", function () {
    var change = pending;
    if (!change) return;
    pending = null;
    clearTimeout(change.timer);
    navigator.sendBeacon(change.beacon.url, change.beacon.data);
  });

  // The ticket page: the header's field form, through htmx when it is there.
  function fieldLater(form, value, label) {
    var data = new FormData(form);
    data.set("value", value);
    later(label, function () {
      // A live refresh may have replaced the header meanwhile: use the form shown now.
      var field = document.querySelector("#ticket-header input[name=field][value=" + data.get("field") + "]");
      var target = field ? field.form : form;
      target.querySelector("select[name=value]").value = value;
      if (window.htmx) window.htmx.trigger(target, "change"); else target.submit();
    }, { url: form.action, data: data });
  }
  // The queue: the bulk form, for the selected row only.
  function bulkLater(action, values, label) {
    var row = selectedRow();
    var form = document.getElementById("bulk-form");
    if (!row || !form) return;
    var id = row.dataset.ticketId;
    var data = new FormData();
    data.set("csrfmiddlewaretoken", csrf());
    data.set("ids", id);
    data.set("action", action);
    data.set("next", form.querySelector("[name=next]").value);
    Object.keys(values).forEach(function (k) { data.set(k, values[k]); });
    var number = (row.querySelector(".ticket-link") || { textContent: "" }).textContent;
    later(label.replace("{n}", number), function () {
      document.querySelectorAll("input[name=ids]").forEach(function (b) { b.checked = b.value === id; });
      form.querySelector("[name=action]").value = action;
      Object.keys(values).forEach(function (k) { form.querySelector("[name=" + k + "]").value = values[k]; });
      form.submit();
    }, { url: form.action, data: data });
  }

  document.addEventListener("keydown", function (e) {
    // z, Ctrl+Z or Cmd+Z while a change waits (not in a field: there Ctrl+Z undoes typing).
    if (pending && (e.key === "z" || e.key === "Z") && !e.altKey && !e.shiftKey && !typing(e.target)) {
      undo();
      e.preventDefault();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") { document.getElementById("shortcut-help").hidden = true; return; }
    if (typing(e.target)) return;
    var page = document.getElementById("agent-page");
    var kind = page ? page.dataset.page : "";
    var me = page ? page.dataset.userId : "";
    var number = page ? "#" + page.dataset.ticketNumber : "";
    var handled = true;
    switch (e.key) {
      case "?": var help = document.getElementById("shortcut-help"); help.hidden = !help.hidden; break;
      case "/": var s = document.getElementById("f-q") || document.getElementById("global-search"); s.focus(); s.select(); break;
      case "j": if (kind === "queue") move(1); else handled = false; break;
      case "k": if (kind === "queue") move(-1); else handled = false; break;
      case "Enter": var row = selectedRow(); if (kind === "queue" && row) location.href = row.dataset.href; else handled = false; break;
      case "r": case "n":
        if (kind !== "ticket") { handled = false; break; }
        var choice = document.getElementById(e.key === "r" ? "kind-reply" : "kind-note");
        if (choice) choice.checked = true;  // a light agent's composer has notes only
        document.getElementById("composer-body").focus();
        break;
      case "m":
        var filter = kind === "ticket" && document.getElementById("macro-search");
        if (!filter) { handled = false; break; }
        filter.scrollIntoView({ block: "nearest" });
        filter.focus();
        filter.select();
        break;
      case "a":
        if (kind === "ticket") fieldLater(document.getElementById("assign-form"), me, "Assigning " + number + " to you…");
        else if (kind === "queue") bulkLater("assign", { assignee: me }, "Assigning {n} to you…");
        break;
      case "s":
        if (kind === "ticket") fieldLater(document.getElementById("h-status").form, "solved", "Solving " + number + "…");
        else if (kind === "queue") bulkLater("status", { status: "solved" }, "Solving {n}…");
        break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-close-help]")) document.getElementById("shortcut-help").hidden = true;
  });
})();
