// Pickers with type-ahead for reference data (people, locations, cost centres): every
// <input data-reference="person|location|cost_centre"> gets a <datalist> that is filled from
// /reference/lookup as the user types (debounced). An input with data-reference-by="<id of a
// select>" is a picker while that select names owner, location or cost_centre (a change set's
// field-update rows). Every form works without this file: the input takes free typing and the
// server checks the value.
(function () {
  "use strict";
  var FIELD_KINDS = { owner: "person", location: "location", cost_centre: "cost_centre" };
  var DELAY = 200;
  var script = document.currentScript;
  var LOOKUP = script ? script.src.replace(/static\/reference\.js(\?.*)?$/, "reference/lookup") : "reference/lookup";
  var made = 0;

  function listFor(input) {
    var list = input.list;
    if (!list) {
      made += 1;
      list = document.createElement("datalist");
      list.id = "reference-list-" + made;
      input.insertAdjacentElement("afterend", list);
    }
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    return list;
  }

  function fill(list, results) {
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    results.forEach(function (match) {
      var option = document.createElement("option");
      option.value = match.code;
      var text = match.label;
      if (match.item_key) {
        text += " · " + match.item_key;
      }
      option.label = text;
      option.textContent = text;
      list.appendChild(option);
    });
  }

  function enhance(input, kindOf) {
    var timer = null;
    var asked = null;
    var pending = null;
    function ask() {
      var kind = kindOf();
      if (!kind) {
        return;
      }
      var query = kind + "\u0000" + input.value;
      if (query === asked) {
        return;
      }
      asked = query;
      if (pending && pending.abort) {
        pending.abort();
      }
      pending = window.AbortController ? new AbortController() : null;
      var url = LOOKUP + "?kind=" + encodeURIComponent(kind) + "&q=" + encodeURIComponent(input.value.trim());
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" },
                   signal: pending ? pending.signal : undefined })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (body) { fill(listFor(input), body.results || []); })
        .catch(function () { /* offline or aborted: the input stays plain text */ });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY);
    });
    input.addEventListener("focus", ask);
    if (input.value && document.activeElement === input) {
      ask();  // typed before this script ran (a slow page): offer the matches at once
    }
    return ask;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-reference]").forEach(function (input) {
      listFor(input);
      enhance(input, function () { return input.getAttribute("data-reference"); });
    });
    document.querySelectorAll("input[data-reference-by]").forEach(function (input) {
      var select = document.getElementById(input.getAttribute("data-reference-by"));
      if (!select) {
        return;
      }
      var kindOf = function () { return FIELD_KINDS[select.value] || null; };
      var ask = enhance(input, kindOf);
      var follow = function () {
        if (kindOf()) {
          input.setAttribute("data-reference-kind", kindOf());
          listFor(input);
          ask();
        } else {
          input.removeAttribute("data-reference-kind");
          input.removeAttribute("list");
        }
      };
      select.addEventListener("change", follow);
      if (kindOf()) {
        follow();
      }
    });
  });
})();
