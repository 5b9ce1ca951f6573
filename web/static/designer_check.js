// Live check of the designer's YAML editors: while the designer types, the text is checked as a
// save would check it (nothing is stored) and the problems are listed next to the editor.
// Without this file the editors still work: every save is checked on the server.
(function () {
  "use strict";
  var DELAY_MS = 500;

  function setUp(area) {
    var region = document.getElementById(area.getAttribute("data-check-region"));
    var token = area.form && area.form.querySelector("input[name='csrf_token']");
    if (!region || !token) {
      return;
    }
    var timer = null;
    var sent = 0;

    function show(problems) {
      region.textContent = "";
      var lead = document.createElement("p");
      if (problems.length === 0) {
        lead.className = "ok";
        lead.textContent = region.getAttribute("data-ok");
        region.appendChild(lead);
        return;
      }
      lead.textContent = region.getAttribute("data-found");
      var list = document.createElement("ul");
      list.className = "problems";
      problems.forEach(function (problem) {
        var item = document.createElement("li");
        item.textContent = problem;  // text, never markup: it quotes what the designer typed
        list.appendChild(item);
      });
      region.appendChild(lead);
      region.appendChild(list);
    }

    function check() {
      var mine = ++sent;
      fetch(area.getAttribute("data-check-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json",
                  "X-CSRFToken": token.value},
        body: JSON.stringify({source: area.value})
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        return type.indexOf("application/json") === 0 ? response.json() : null;
      }).then(function (answer) {
        // Only the newest answer counts: an older request may come back after a newer one.
        if (mine !== sent) {
          return;
        }
        if (answer && Array.isArray(answer.problems)) {
          show(answer.problems);
        } else {
          region.textContent = "";  // e.g. the session expired: the save will say more
        }
      }).catch(function () {
        // Offline or signed out: say nothing; the save still checks the text.
        if (mine === sent) {
          region.textContent = "";
        }
      });
    }

    area.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(check, DELAY_MS);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-check-url]").forEach(setUp);
  });
})();
