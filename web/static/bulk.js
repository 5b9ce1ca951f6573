// Bulk actions on the register page: "select all on this page", then "select all N matching this
// filter" once every row of the page is ticked (the form then posts the filter, never the keys),
// and an action bar that shows only when something is selected, with only the input the chosen
// action needs. Without this file the form still works: tick rows (or "all matching"), choose an
// action and its value, Continue.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("bulk");
    if (!form) {
      return;
    }
    var rows = Array.prototype.slice.call(document.querySelectorAll("input.bulk-row"));
    var page = document.getElementById("bulk-page");
    var all = document.getElementById("bulk-all");
    var allLabel = document.getElementById("bulk-all-label");
    var actions = document.getElementById("bulk-actions");
    var action = document.getElementById("bulk-action");
    var count = document.getElementById("bulk-count");
    var values = Array.prototype.slice.call(form.querySelectorAll("[data-for]"));

    function ticked() {
      return rows.filter(function (row) { return row.checked; }).length;
    }

    function update() {
      var n = ticked();
      var whole = rows.length > 0 && n === rows.length;
      if (allLabel) {
        allLabel.hidden = !whole;
        if (!whole) {
          all.checked = false;
        }
      }
      var everything = Boolean(all && all.checked);
      // "All matching" posts the filter: the keys of this page are not sent with it.
      rows.forEach(function (row) { row.disabled = everything; });
      page.checked = whole;
      page.indeterminate = n > 0 && !whole;
      count.hidden = n === 0 || everything;
      count.textContent = count.getAttribute("data-template").replace("{num}", String(n));
      actions.hidden = n === 0 && !everything;
      values.forEach(function (input) {
        var wanted = input.getAttribute("data-for") === action.value;
        input.hidden = !wanted;
        input.disabled = !wanted;
        input.required = wanted && input.tagName === "INPUT";
      });
    }

    page.hidden = false;
    page.addEventListener("change", function () {
      rows.forEach(function (row) { row.checked = page.checked; });
      update();
    });
    rows.forEach(function (row) { row.addEventListener("change", update); });
    if (all) {
      all.addEventListener("change", update);
    }
    action.addEventListener("change", update);
    update();
  });
})();
