// Client-side show-if: reveal and hide items while the respondent answers.
// The server evaluates the same conditions and has the last word; without this
// script the server reveals new items after the page is submitted.
// Conditions arrive as JSON trees in data-show-if (see kantelmeter/web/showif.py).
(function () {
  "use strict";

  function answers(form, earlier) {
    var values = Object.assign({}, earlier);
    var groups = {};
    form.querySelectorAll("[data-item]").forEach(function (wrapper) { groups[wrapper.dataset.item] = wrapper; });
    Object.keys(groups).forEach(function (id) {
      var wrapper = groups[id];
      if (wrapper.hidden) { values[id] = null; return; }
      var boxes = wrapper.querySelectorAll("input[type=checkbox]");
      if (boxes.length) {
        var chosen = [];
        boxes.forEach(function (box) { if (box.checked) { chosen.push(Number(box.value)); } });
        values[id] = chosen.length ? chosen : null;
        return;
      }
      var radio = wrapper.querySelector("input[type=radio]:checked");
      if (wrapper.querySelector("input[type=radio]")) { values[id] = radio ? Number(radio.value) : null; return; }
      var field = wrapper.querySelector("input, textarea");
      var text = field ? field.value.trim() : "";
      if (text === "") { values[id] = null; return; }
      var number = Number(text.replace(",", "."));
      var numeric = /^(decimal|numeric)$/.test(field.getAttribute("inputmode") || "");
      values[id] = numeric && !isNaN(number) ? number : text;
    });
    return values;
  }

  function value(node, values) {
    switch (node[0]) {
      case "item": return values[node[1]] === undefined ? null : values[node[1]];
      case "const": return node[1];
      case "set": return node[1];
      default: return evaluate(node, values);
    }
  }

  function compare(op, left, right) {
    switch (op) {
      case "==": return left === right;
      case "!=": return left !== right;
      case "<": return left < right;
      case "<=": return left <= right;
      case ">": return left > right;
      case ">=": return left >= right;
    }
    return false;
  }

  // Mirrors kantelmeter.conditions: a comparison with an unanswered item is false.
  function evaluate(node, values) {
    var op = node[0];
    if (op === "and") { return node.slice(1).every(function (n) { return evaluate(n, values); }); }
    if (op === "or") { return node.slice(1).some(function (n) { return evaluate(n, values); }); }
    if (op === "not") { return !evaluate(node[1], values); }
    if (op === "item" || op === "const") { var v = value(node, values); return v !== null && v !== undefined; }
    var left = value(node[1], values), right = value(node[2], values);
    if (left === null || right === null) { return false; }
    if (op === "in" || op === "notin") {
      var inside = Array.isArray(right) && right.indexOf(left) !== -1;
      return op === "in" ? inside : !inside;
    }
    if (Array.isArray(left) || Array.isArray(right)) { return false; }
    return compare(op, left, right);
  }

  function update(form, earlier) {
    // Items depend only on earlier ones, so one pass in page order settles chains.
    var shown = [];
    form.querySelectorAll("[data-item]").forEach(function (wrapper) {
      if (wrapper.dataset.showIf) {
        var visible = evaluate(JSON.parse(wrapper.dataset.showIf), answers(form, earlier));
        wrapper.hidden = !visible;
      }
      if (!wrapper.hidden) { shown.push(wrapper.dataset.item); }
    });
    var field = form.querySelector("input[name=shown]");
    if (field) { field.value = shown.join(","); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form[data-answers]");
    if (form) {
      var earlier = JSON.parse(form.dataset.answers || "{}");
      form.addEventListener("change", function () { update(form, earlier); });
      form.addEventListener("input", function () { update(form, earlier); });
      update(form, earlier);
    }
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
}());
