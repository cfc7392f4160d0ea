// The top bar's search: results as you type (the server renders and escapes them), arrows
// and Enter pick one, Esc closes. Enter with nothing picked submits the form, which opens
// a ticket by its number or lists every result.
(function () {
  "use strict";
  var form = document.getElementById("global-search-form");
  var input = document.getElementById("global-search");
  var box = document.getElementById("global-search-results");
  if (!form || !input || !box) return;
  var timer = null;
  var asked = "";
  var latest = 0;

  function options() { return Array.prototype.slice.call(box.querySelectorAll("[role=option]")); }
  function close() {
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function open() {
    if (!box.innerHTML.trim()) return;
    box.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }
  function active() { return box.querySelector("[aria-selected=true]"); }
  function pick(delta) {
    var all = options();
    if (!all.length) return;
    var i = all.indexOf(active());
    var next = i === -1 ? (delta > 0 ? 0 : all.length - 1) : (i + delta + all.length) % all.length;
    all.forEach(function (o) { o.setAttribute("aria-selected", "false"); });
    all[next].setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", all[next].id);
    all[next].scrollIntoView({ block: "nearest" });
  }
  function suggest() {
    var q = input.value.trim();
    if (q === asked) { open(); return; }
    asked = q;
    if (!q) { box.innerHTML = ""; close(); return; }
    var ticket = ++latest;
    fetch(form.dataset.suggestUrl + "?q=" + encodeURIComponent(q), {
      credentials: "same-origin", headers: { "HX-Request": "true" },
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (html) {
      if (ticket !== latest) return; // an answer to an older query: a newer one is coming
      box.innerHTML = html;
      if (document.activeElement === input) open();
    }).catch(function () {
      if (ticket !== latest) return;
      box.innerHTML = '<p class="search-empty">Search is unavailable right now. Press Enter to search anyway.</p>';
      open();
    });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(suggest, 250);
  });
  input.addEventListener("focus", function () { if (input.value.trim() && asked === input.value.trim()) open(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (box.hidden) { suggest(); open(); }
      pick(e.key === "ArrowDown" ? 1 : -1);
      e.preventDefault();
    } else if (e.key === "Enter") {
      var chosen = box.hidden ? null : active();
      if (chosen) { e.preventDefault(); location.href = chosen.dataset.href; }
    } else if (e.key === "Escape") {
      if (!box.hidden) { close(); e.preventDefault(); e.stopPropagation(); }
      else input.blur();
    }
  });
  box.addEventListener("mousedown", function (e) {
    // Keep focus in the input until the click lands on the link.
    if (e.target.closest("a")) e.preventDefault();
  });
  box.addEventListener("click", function (e) {
    var link = e.target.closest("a");
    if (link) { e.preventDefault(); location.href = link.href; }
  });
  document.addEventListener("click", function (e) { if (!form.contains(e.target)) close(); });
  input.addEventListener("blur", function () { setTimeout(function () { if (document.activeElement !== input) close(); }, 150); });
})();
