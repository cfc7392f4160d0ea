/* The business-hours week grid: a Mon–Fri 9–17 preset, copying Monday to other days,
   adding a stretch to a day, and dimming closed days. Nothing here is needed to save:
   the grid is plain form fields, and closed days keep their times so nothing typed is
   lost if the form comes back with an error. */
"use strict";
(function () {
  var MAX_STRETCHES = 8; // the server reads at most this many per day
  var OFFICE = { days: [0, 1, 2, 3, 4], hours: [["09:00", "17:00"]] };

  function rows(grid) { return Array.prototype.slice.call(grid.querySelectorAll("tr.week-day")); }
  function stretches(row) { return Array.prototype.slice.call(row.querySelectorAll(".week-stretch")); }
  function times(stretch) { return stretch.querySelectorAll("input[type=time]"); }
  function openBox(row) { return row.querySelector("input[type=checkbox]"); }
  function isEmpty(stretch) {
    var pair = times(stretch);
    return !pair[0].value && !pair[1].value;
  }

  function addStretch(row) {
    var all = stretches(row);
    if (all.length >= MAX_STRETCHES) { return null; }
    var copy = all[all.length - 1].cloneNode(true);
    var index = all.length;
    copy.dataset.stretch = String(index);
    copy.hidden = false;
    Array.prototype.forEach.call(times(copy), function (input) {
      input.value = "";
      input.name = input.name.replace(/-\d+-(start|end)$/, "-" + index + "-$1");
      input.id = input.id.replace(/-\d+-(start|end)$/, "-" + index + "-$1");
    });
    all[all.length - 1].after(copy);
    return copy;
  }

  // Empty stretches after the first are folded away until "+ hours" asks for one.
  function collapse(row) {
    stretches(row).forEach(function (stretch, index) {
      stretch.hidden = index > 0 && isEmpty(stretch);
    });
    refresh(row);
  }

  function refresh(row) {
    row.classList.toggle("week-closed", !openBox(row).checked);
    var folded = stretches(row).some(function (s) { return s.hidden; });
    row.querySelector(".week-add").hidden = !folded && stretches(row).length >= MAX_STRETCHES;
  }

  function readDay(row) {
    return {
      open: openBox(row).checked,
      hours: stretches(row).filter(function (s) { return !isEmpty(s); }).map(function (s) {
        var pair = times(s);
        return [pair[0].value, pair[1].value];
      }),
    };
  }

  function setDay(row, open, hours) {
    while (stretches(row).length < hours.length && addStretch(row)) { /* grow to fit */ }
    stretches(row).forEach(function (stretch, index) {
      var pair = times(stretch);
      pair[0].value = index < hours.length ? hours[index][0] : "";
      pair[1].value = index < hours.length ? hours[index][1] : "";
    });
    openBox(row).checked = open;
    collapse(row);
  }

  function say(grid, text) { grid.querySelector(".week-status").textContent = text; }

  function setUp(grid) {
    var days = rows(grid);
    grid.querySelector(".week-tools").hidden = false;
    days.forEach(function (row) {
      collapse(row);
      openBox(row).addEventListener("change", function () { refresh(row); });
      row.querySelector(".week-add").addEventListener("click", function () {
        var next = stretches(row).filter(function (s) { return s.hidden; })[0] || addStretch(row);
        if (next) {
          next.hidden = false;
          times(next)[0].focus();
        }
        refresh(row);
      });
    });
    grid.querySelector("[data-week-preset=office]").addEventListener("click", function () {
      days.forEach(function (row, day) {
        var office = OFFICE.days.indexOf(day) !== -1;
        setDay(row, office, office ? OFFICE.hours : []);
      });
      say(grid, "Set to Monday to Friday, 09:00 to 17:00. Save to keep it.");
    });
    Array.prototype.forEach.call(grid.querySelectorAll("[data-week-copy]"), function (button) {
      button.addEventListener("click", function () {
        var monday = readDay(days[0]);
        var last = button.dataset.weekCopy === "all" ? 6 : 4;
        for (var day = 1; day <= last; day++) { setDay(days[day], monday.open, monday.hours); }
        say(grid, "Monday's hours copied to " + (last === 6 ? "every day" : "Tuesday to Friday") +
          ". Save to keep them.");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var grid = document.getElementById("week-grid");
    if (grid) { setUp(grid); }
  });
})();
