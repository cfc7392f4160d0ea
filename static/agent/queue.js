// The queue page: select-all, the bulk bar (shown only while tickets are selected, with
// the field its action needs and nothing chosen for you), the filters drawer on narrow
// screens and the customer filter's type-ahead.
(function () {
  "use strict";
  var bulk = document.getElementById("bulk-form");
  var count = document.getElementById("bulk-count");
  var error = document.getElementById("bulk-error");
  var action = document.getElementById("bulk-action");

  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("#queue-live input[name=ids]")); }
  function sync() {
    var all = boxes();
    var checked = all.filter(function (b) { return b.checked; }).length;
    var selectAll = document.getElementById("select-all");
    if (selectAll) {
      selectAll.checked = all.length > 0 && checked === all.length;
      selectAll.indeterminate = checked > 0 && checked < all.length;
    }
    if (!bulk) return;
    bulk.classList.toggle("active", checked > 0);
    count.textContent = checked === 1 ? "1 ticket selected:" : checked + " tickets selected:";
    all.forEach(function (b) { var row = b.closest("tr"); if (row) row.classList.toggle("checked", b.checked); });
  }
  function showAction() {
    if (!bulk) return;
    bulk.dataset.action = action.value;
    error.textContent = "";
  }

  document.addEventListener("change", function (e) {
    if (e.target.id === "select-all") {
      boxes().forEach(function (b) { b.checked = e.target.checked; });
      sync();
    } else if (e.target.name === "ids") {
      sync();
    }
  });
  document.addEventListener("helpdesk:queue-refreshed", sync);
  if (bulk) {
    action.addEventListener("change", showAction);
    bulk.addEventListener("submit", function (e) {
      // Nothing is preselected, so say what is missing instead of sending a guess.
      var field = bulk.querySelector('[data-for="' + action.value + '"]');
      var problem = "";
      if (!boxes().some(function (b) { return b.checked; })) problem = "Select at least one ticket.";
      else if (!action.value) problem = "Choose an action.";
      else if (field && action.value !== "merge" && !field.value.trim()) problem = field.dataset.missing;
      if (problem) { e.preventDefault(); error.textContent = problem; (action.value ? field : action).focus(); }
    });
    document.getElementById("bulk-clear").addEventListener("click", function () {
      boxes().forEach(function (b) { b.checked = false; });
      sync();
    });
    showAction();
  }
  sync();

  // The filters drawer (narrow screens; on wide ones the filters are always shown).
  var side = document.getElementById("queue-filters");
  var toggle = document.getElementById("filters-toggle");
  function drawer(open) {
    side.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) { var first = side.querySelector("input:not([type=hidden]), select"); if (first) first.focus(); }
    else toggle.focus();
  }
  if (side && toggle) {
    toggle.addEventListener("click", function () { drawer(!side.classList.contains("open")); });
    document.getElementById("filters-close").addEventListener("click", function () { drawer(false); });
    side.addEventListener("keydown", function (e) { if (e.key === "Escape" && side.classList.contains("open")) drawer(false); });
    document.addEventListener("click", function (e) {
      // A click on the dimmed page beside the drawer closes it.
      if (side.classList.contains("open") && !side.contains(e.target) && !toggle.contains(e.target)) drawer(false);
    });
  }

  // Customer type-ahead: suggestions are "Name <email>" labels the server resolves.
  var customer = document.getElementById("f-customer");
  var list = document.getElementById("customer-options");
  var timer = null;
  if (customer && list) {
    customer.addEventListener("input", function () {
      var id = document.getElementById("f-customer-id");
      if (id) id.remove(); // typed over a linked customer: the text decides now
      clearTimeout(timer);
      var q = customer.value.trim();
      if (q.length < 2) return;
      timer = setTimeout(function () {
        fetch(customer.dataset.suggestUrl + "?q=" + encodeURIComponent(q), { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { if (customer.value.trim() === q) list.innerHTML = html; })
          .catch(function () { list.innerHTML = ""; });
      }, 250);
    });
  }
})();
