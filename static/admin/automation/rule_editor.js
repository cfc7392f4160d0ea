/* The rule editor: conditions and actions as rows of lists (field, operator, value)
   instead of JSON. The JSON textareas stay the form's fields: every change here writes
   them, so saving works exactly as without this script. Also the dry-run button. */
"use strict";
(function () {
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function select(options, value) {
    var s = el("select");
    options.forEach(function (o) {
      var opt = el("option", { value: o[0] }, o[1]);
      if (String(o[0]) === String(value)) { opt.selected = true; }
      s.appendChild(opt);
    });
    return s;
  }
  function parse(textarea, fallback) {
    try { return JSON.parse(textarea.value || "null") || fallback; } catch (e) { return null; }
  }

  function valueInput(spec, value) {
    if (spec && spec.kind === "bool") {
      return select([["true", "within"], ["false", "outside"]], String(value !== false));
    }
    if (spec && spec.choices && spec.choices.length) {
      return select(spec.choices.map(function (c) { return [c, c]; }), value);
    }
    var input = el("input", { type: "text", size: "24" });
    if (Array.isArray(value)) { input.value = value.join(", "); }
    else if (value && typeof value === "object") { input.value = JSON.stringify(value); }  // {"macro": ..., "channel": ...}
    else { input.value = value === null || value === undefined ? "" : value; }
    return input;
  }
  function readValue(spec, input) {
    var raw = input.value;
    if (spec && spec.kind === "bool") { return raw === "true"; }
    if (spec && spec.kind === "tags") { return raw.split(",").map(function (t) { return t.trim(); }).filter(Boolean); }
    if (spec && spec.kind === "number") { return raw === "" ? raw : Number(raw); }
    if (/^\s*\{/.test(raw)) { try { return JSON.parse(raw); } catch (e) { return raw; } }
    return raw === "" ? null : raw;
  }

  function conditionRow(schema, timeRule, cond, onChange) {
    var row = el("div", { "class": "rule-row" });
    var fields = Object.keys(schema.conditions).filter(function (f) {
      return timeRule || !schema.conditions[f].time;
    }).map(function (f) { return [f, schema.conditions[f].label]; });
    var fieldSel = select(fields, cond.field || fields[0][0]);
    var opSel, valueEl, calSel;
    function rebuild() {
      var spec = schema.conditions[fieldSel.value];
      var op = opSel ? opSel.value : cond.operator;
      if (opSel) { row.removeChild(opSel); row.removeChild(valueEl); }
      if (calSel) { row.removeChild(calSel); calSel = null; }
      opSel = select(spec.operators.map(function (o) { return [o, o.replace(/_/g, " ")]; }), op);
      valueEl = valueInput(spec, cond.value);
      row.insertBefore(opSel, remove);
      row.insertBefore(valueEl, remove);
      if (spec.time) {
        calSel = select([["calendar", "calendar hours"], ["business", "business hours"]], cond.calendar || "calendar");
        row.insertBefore(calSel, remove);
      }
    }
    var remove = el("button", { type: "button", "class": "rule-remove" }, "Remove");
    row.appendChild(fieldSel);
    row.appendChild(remove);
    rebuild();
    fieldSel.addEventListener("change", function () { cond = { field: fieldSel.value }; rebuild(); onChange(); });
    row.addEventListener("change", onChange);
    row.addEventListener("input", onChange);
    remove.addEventListener("click", function () { row.parentNode.removeChild(row); onChange(); });
    row.read = function () {
      var spec = schema.conditions[fieldSel.value];
      var out = { field: fieldSel.value, operator: opSel.value, value: readValue(spec, valueEl) };
      if (calSel) { out.calendar = calSel.value; }
      return out;
    };
    return row;
  }

  function actionRow(schema, action, onChange) {
    var row = el("div", { "class": "rule-row" });
    var fields = Object.keys(schema.actions).map(function (f) { return [f, schema.actions[f]]; });
    var fieldSel = select(fields, action.field || fields[0][0]);
    var valueEl;
    function specFor(f) {
      if (f === "status") { return { choices: schema.statuses }; }
      if (f === "priority") { return { choices: schema.priorities }; }
      if (/_tags$/.test(f)) { return { kind: "tags" }; }
      return {};
    }
    function rebuild() {
      if (valueEl) { row.removeChild(valueEl); }
      valueEl = valueInput(specFor(fieldSel.value), action.value);
      row.insertBefore(valueEl, remove);
    }
    var remove = el("button", { type: "button", "class": "rule-remove" }, "Remove");
    row.appendChild(fieldSel);
    row.appendChild(remove);
    rebuild();
    fieldSel.addEventListener("change", function () { action = { field: fieldSel.value }; rebuild(); onChange(); });
    row.addEventListener("change", onChange);
    row.addEventListener("input", onChange);
    remove.addEventListener("click", function () { row.parentNode.removeChild(row); onChange(); });
    row.read = function () { return { field: fieldSel.value, value: readValue(specFor(fieldSel.value), valueEl) }; };
    return row;
  }

  function rows(box) { return Array.prototype.slice.call(box.querySelectorAll(".rule-row")).map(function (r) { return r.read(); }); }

  function conditionsEditor(textarea, schema, timeRule) {
    var data = parse(textarea, { all: [], any: [] });
    if (data === null) { return; }  // not JSON: leave the textarea for the admin to fix
    var wrap = el("div", { "class": "rule-editor" });
    var boxes = {};
    function write() { textarea.value = JSON.stringify({ all: rows(boxes.all), any: rows(boxes.any) }); }
    [["all", "Every one of these must hold"], ["any", "And at least one of these (when any)"]].forEach(function (g) {
      wrap.appendChild(el("p", { "class": "rule-group-title" }, g[1]));
      var box = el("div", { "class": "rule-group", "data-group": g[0] });
      (data[g[0]] || []).forEach(function (c) { box.appendChild(conditionRow(schema, timeRule, c, write)); });
      var add = el("button", { type: "button", "class": "rule-add", "data-add": g[0] }, "Add condition");
      add.addEventListener("click", function () { box.appendChild(conditionRow(schema, timeRule, {}, write)); write(); });
      boxes[g[0]] = box;
      wrap.appendChild(box);
      wrap.appendChild(add);
    });
    textarea.hidden = true;
    textarea.parentNode.insertBefore(wrap, textarea);
  }

  function actionsEditor(textarea, schema) {
    var data = parse(textarea, []);
    if (data === null) { return; }
    var wrap = el("div", { "class": "rule-editor" });
    var box = el("div", { "class": "rule-group" });
    function write() { textarea.value = JSON.stringify(rows(box)); }
    data.forEach(function (a) { box.appendChild(actionRow(schema, a, write)); });
    var add = el("button", { type: "button", "class": "rule-add", "data-add": "action" }, "Add action");
    add.addEventListener("click", function () { box.appendChild(actionRow(schema, {}, write)); write(); });
    wrap.appendChild(box);
    wrap.appendChild(add);
    textarea.hidden = true;
    textarea.parentNode.insertBefore(wrap, textarea);
    return wrap;
  }

  function dryRun(textarea, wrap) {
    var button = el("button", { type: "button", "class": "rule-dry-run" }, "Dry run on the last 500 tickets");
    var out = el("div", { "class": "rule-dry-run-output", "aria-live": "polite" });
    button.addEventListener("click", function () {
      var form = textarea.form;
      var body = new FormData();
      body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
      body.append("conditions", form.querySelector("[name=conditions]").value);
      body.append("actions", form.querySelector("[name=actions]").value);
      Array.prototype.forEach.call(form.querySelectorAll("[name=events]:checked"), function (box) {
        body.append("events", box.value);
      });
      out.textContent = "Testing…";
      fetch(textarea.dataset.dryRunUrl, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          out.textContent = "";
          var result = doc.querySelector(".rule-dry-run-result");
          if (result) { out.appendChild(document.importNode(result, true)); }
        })
        .catch(function () { out.textContent = "The dry run failed; try again."; });
    });
    wrap.appendChild(button);
    wrap.appendChild(out);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var conditions = document.querySelector("textarea[data-rule-editor=conditions]");
    var actions = document.querySelector("textarea[data-rule-editor=actions]");
    if (!conditions || !actions || !conditions.dataset.schema) { return; }
    var schema = JSON.parse(conditions.dataset.schema);
    var timeRule = conditions.dataset.timeRule === "1";
    conditionsEditor(conditions, schema, timeRule);
    var wrap = actionsEditor(actions, schema);
    if (wrap) { dryRun(actions, wrap); }
  });
})();
