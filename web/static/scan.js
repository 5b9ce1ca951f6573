// Scan audit: each scan (a scanner types the label and presses Enter) is posted in the background
// and the lists are replaced by the ones the server renders, so scanning never waits for a page.
// Scans are sent one after another, in the order they were made. Without this file every Enter
// posts the form and the page comes back with the same lists.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("scan");
    var lists = document.getElementById("scan-lists");
    var outcome = document.getElementById("scan-outcome");
    if (!form || !lists || !outcome || !window.fetch || !window.FormData) {
      return;
    }
    var input = form.querySelector("input[name='value']");
    var queue = Promise.resolve();

    function show(message, kind) {
      outcome.textContent = message;  // text, never markup: it quotes what was scanned
      outcome.className = kind;
    }

    function send(value) {
      var body = new FormData(form);
      body.set("value", value);
      return fetch(form.getAttribute("data-scan-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Accept": "application/json"},
        body: body
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") !== 0) {
          throw new Error("not an answer of the scan page");
        }
        return response.json();
      }).then(function (answer) {
        if (answer.error) {
          show(answer.error, "error");
          return;
        }
        lists.innerHTML = answer.lists;  // rendered, and escaped, by the server
        show(answer.message, answer.kind === "found" ? "success" : "warning");
      }).catch(function () {
        // Signed out, or the server is away: post the form the plain way, which says why.
        input.value = value;
        form.submit();
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = input.value;
      if (!value.trim()) {
        return;
      }
      input.value = "";
      input.focus();
      queue = queue.then(function () { return send(value); });
    });
  });
})();
