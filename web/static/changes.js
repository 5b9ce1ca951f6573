// Enhancements for the change screens; every page works without this file.
(function () {
  "use strict";
  // With this script the class select re-renders the form itself; the buttons are for no-JS.
  document.documentElement.classList.add("js");
  document.addEventListener("DOMContentLoaded", function () {
    // Choosing a class for a new item shows that class's attributes: the form is re-rendered by
    // the server with everything typed so far (the same as the "Show the attributes" button).
    document.querySelectorAll("select[name^='create-'][name$='-class']").forEach(function (select) {
      select.addEventListener("change", function () {
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
    });
    // After a failed submit, start at the first field with a problem.
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid && !window.location.hash) {
      invalid.focus();
    }
  });
})();
