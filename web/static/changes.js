// Enhancements for the change screens; every page works without this file.
(function () {
  "use strict";
  // With this script the class select re-renders the form itself; the buttons are for no-JS.
  document.documentElement.classList.add("js");

  // What identifies one item (a copy leaves it out) and what a blank row may hold already
  // (usm/services/changes/forms.py: UNIQUE_FIELDS, OFFERED). The server reads rows by their
  // index, so after any copy the rows are numbered again in the order they stand.
  var UNIQUE = ["ref", "serial_number", "asset_tag", "hostname", "serials"];
  var OFFERED = ["class", "status", "currency", "depreciation_method", "depreciation_months",
                 "offered_for", "serials"];
  var MAX_ROWS = 60;
  var ROW_NAME = /^create-\d+-(.+)$/;

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function fieldOf(el) {
    var match = ROW_NAME.exec(el.name || "");
    return match ? match[1] : null;
  }

  function controls(card) {
    return card.querySelectorAll("input[name^='create-'], select[name^='create-'], " +
                                 "textarea[name^='create-']");
  }

  function cards(box) {
    return Array.prototype.filter.call(box.children, function (el) {
      return el.classList.contains("row-card");
    });
  }

  function isBlank(card) {
    return Array.prototype.every.call(controls(card), function (el) {
      var name = fieldOf(el);
      return !name || OFFERED.indexOf(name) >= 0 || !el.value.trim();
    });
  }

  function copyOf(card, serial) {
    var clone = card.cloneNode(true);
    var from = controls(card), to = controls(clone);
    for (var i = 0; i < from.length; i++) {
      var name = fieldOf(from[i]);
      to[i].value = UNIQUE.indexOf(name) >= 0 ? "" : from[i].value;
      if (name === "serial_number" && serial !== undefined) { to[i].value = serial; }
    }
    // A copy starts clean: the original's problems are the original's.
    clone.classList.remove("has-error");
    each(clone.querySelectorAll(".field-error"), function (el) { el.remove(); });
    each(clone.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    each(clone.querySelectorAll("details.add-like"), function (el) { el.open = false; });
    return clone;
  }

  function renumber(box) {
    var legend = box.getAttribute("data-legend") || "";
    cards(box).forEach(function (card, i) {
      var prefix = "create-" + i + "-";
      card.id = "row-create-" + i;
      var title = card.querySelector(":scope > legend");
      if (title && legend) { title.textContent = legend.replace("{n}", String(i + 1)); }
      each(card.querySelectorAll("*"), function (el) {
        ["name", "id", "for", "aria-describedby", "data-copy-row", "data-serials-row"]
          .forEach(function (attr) {
            var value = el.getAttribute(attr);
            if (value === null) { return; }
            if (attr === "data-copy-row" || attr === "data-serials-row") {
              el.setAttribute(attr, String(i));
            } else {
              el.setAttribute(attr, value.replace(/create-\d+-/g, prefix));
            }
          });
        if (el.tagName === "BUTTON" && /^copy-create-\d+$/.test(el.value)) {
          el.value = "copy-create-" + i;
        }
      });
    });
    var count = box.closest("form").querySelector("input[name='create_rows']");
    if (count) { count.value = String(cards(box).length); }
  }

  // Copies of ``card`` right after it (one, or one per serial); blank rows further down make
  // room, as on the server. False when the server should do it (too many rows, a repeated
  // serial: it says why next to the row).
  function addCopies(card, serials) {
    var box = card.parentNode;
    var all = cards(box);
    var serialInput = card.querySelector("[name$='-serial_number']");
    var copies = [];
    if (serials === null) {
      copies.push(copyOf(card));
    } else {
      for (var s = 0; s < serials.length; s++) {
        if (serials.indexOf(serials[s]) !== s) { return false; }
      }
      if (serials.length && serialInput && !serialInput.value.trim()) {
        serialInput.value = serials[0];
        serials = serials.slice(1);
      }
      serials.forEach(function (serial) { copies.push(copyOf(card, serial)); });
    }
    var blanks = all.slice(all.indexOf(card) + 1).filter(isBlank);
    if (all.length - Math.min(blanks.length, copies.length) + copies.length > MAX_ROWS) {
      return false;
    }
    blanks.slice(0, copies.length).forEach(function (blank) { blank.remove(); });
    var after = card;
    copies.forEach(function (copy) {
      after.after(copy);
      after = copy;
    });
    var serialsBox = card.querySelector("textarea[name$='-serials']");
    if (serialsBox) { serialsBox.value = ""; }
    each(card.querySelectorAll("details.add-like"), function (el) { el.open = false; });
    renumber(box);
    var focus = (copies[0] || card).querySelector("[name$='-name']");
    if (focus) { focus.focus(); }
    var status = document.getElementById("copy-status");
    if (status) {
      status.textContent = (status.getAttribute("data-done") || "").replace(
        "{n}", String(cards(box).length));
    }
    return true;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.copy-row, button.add-serials");
    if (!button) { return; }
    var card = button.closest("fieldset.row-card");
    if (!card) { return; }
    var serials = null;
    if (button.classList.contains("add-serials")) {
      var text = card.querySelector("textarea[name$='-serials']");
      serials = (text ? text.value : "").split(/[\s,;]+/).filter(Boolean);
      if (!serials.length) { event.preventDefault(); return; }
    }
    if (addCopies(card, serials)) { event.preventDefault(); }
  });

  // Choosing a class for a new item shows that class's attributes: the form is re-rendered by
  // the server with everything typed so far (the same as the "Show the attributes" button).
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[name^='create-'][name$='-class']")) { return; }
    var card = select.closest("fieldset");
    var button = card && card.querySelector("button.refresh");
    if (button && select.form && select.form.requestSubmit) {
      // Come back to this row after the page is rendered again. (getAttribute: the form's
      // "action" buttons shadow form.action.)
      var target = (select.form.getAttribute("action") || "").split("#")[0];
      select.form.setAttribute("action", target + "#" + card.id);
      select.form.requestSubmit(button);
    }
  });

  // A blocked move's reason links to the field that fixes it; a field inside a closed panel
  // opens the panel first.
  function reveal(id) {
    var target = id && document.getElementById(id);
    if (!target) { return false; }
    var panel = target.closest("details");
    while (panel) {
      panel.open = true;
      panel = panel.parentElement && panel.parentElement.closest("details");
    }
    target.scrollIntoView({block: "center"});
    if (target.focus) { target.focus({preventScroll: true}); }
    return true;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a.fix");
    if (!link) { return; }
    var hash = (link.getAttribute("href") || "").split("#")[1];
    if (hash && reveal(decodeURIComponent(hash))) {
      event.preventDefault();
      history.replaceState(null, "", "#" + hash);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    if (window.location.hash.length > 1) {
      var id = decodeURIComponent(window.location.hash.slice(1));
      var el = document.getElementById(id);
      if (el && el.closest("details:not([open])")) { reveal(id); }
    }
    // After a failed submit, start at the first field with a problem.
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid && !window.location.hash) {
      invalid.focus();
    }
  });
})();
