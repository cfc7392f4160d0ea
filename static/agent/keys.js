// Keyboard shortcuts: j/k move in a queue, Enter opens, r reply, n note, a assign to me,
// s solve, / search, ? shows the list. Ignored while typing in a field.
(function () {
  "use strict";
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
  function setField(form, value) {
    var select = form.querySelector("select[name=value]");
    select.value = value;
    if (window.htmx) window.htmx.trigger(form, "change"); else form.submit();
  }
  function bulkOne(action, values) {
    var row = selectedRow();
    var form = document.getElementById("bulk-form");
    if (!row || !form) return;
    document.querySelectorAll("input[name=ids]").forEach(function (b) { b.checked = b.value === row.dataset.ticketId; });
    form.querySelector("[name=action]").value = action;
    Object.keys(values).forEach(function (k) { form.querySelector("[name=" + k + "]").value = values[k]; });
    form.submit();
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Escape") { document.getElementById("shortcut-help").hidden = true; return; }
    if (typing(e.target)) return;
    var page = document.getElementById("agent-page");
    var kind = page ? page.dataset.page : "";
    var me = page ? page.dataset.userId : "";
    var handled = true;
    switch (e.key) {
      case "?": var help = document.getElementById("shortcut-help"); help.hidden = !help.hidden; break;
      case "/": var s = document.getElementById("f-q") || document.getElementById("global-search"); s.focus(); s.select(); break;
      case "j": if (kind === "queue") move(1); else handled = false; break;
      case "k": if (kind === "queue") move(-1); else handled = false; break;
      case "Enter": var row = selectedRow(); if (kind === "queue" && row) location.href = row.dataset.href; else handled = false; break;
      case "r": case "n":
        if (kind !== "ticket") { handled = false; break; }
        document.getElementById(e.key === "r" ? "kind-reply" : "kind-note").checked = true;
        document.getElementById("composer-body").focus();
        break;
      case "a":
        if (kind === "ticket") setField(document.getElementById("assign-form"), me);
        else if (kind === "queue") bulkOne("assign", { assignee: me });
        break;
      case "s":
        if (kind === "ticket") setField(document.getElementById("h-status").form, "solved");
        else if (kind === "queue") bulkOne("status", { status: "solved" });
        break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-close-help]")) document.getElementById("shortcut-help").hidden = true;
  });
})();
