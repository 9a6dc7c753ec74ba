/// The one script the status pages carry, inline (no external asset). Without it a page is plain HTML that reloads
/// itself (`<noscript>` refresh); with it the page's `#live` part is fetched again and swapped in place every few
/// seconds (no full reload, no lost scroll), and action buttons (hidden without script) post a command with the
/// write token typed into the page, kept in `sessionStorage` for the browser session only. Every text it shows is
/// set as `textContent`, never as markup.
enum PageScript {
    static func tags(refreshSeconds: Int) -> String {
        """
        <script>
        (function () {
          "use strict";
          var live = function () { return document.getElementById("live"); };
          function refresh() {
            fetch(location.href, { cache: "no-store", headers: { "Accept": "text/html" } })
              .then(function (answer) { return answer.ok ? answer.text() : null; })
              .then(function (text) {
                if (!text) { return; }
                var next = new DOMParser().parseFromString(text, "text/html").getElementById("live");
                if (next && live()) { live().replaceWith(document.importNode(next, true)); reveal(); }
              })
              .catch(function () {});
          }
          function reveal() {
            document.querySelectorAll("[data-script-only]").forEach(function (element) { element.hidden = false; });
          }
          var token = document.getElementById("token");
          if (token) {
            token.value = sessionStorage.getItem("rolloutToken") || "";
            token.addEventListener("input", function () { sessionStorage.setItem("rolloutToken", token.value); });
          }
          document.addEventListener("click", function (event) {
            var button = event.target.closest("button[data-verb]");
            if (!button) { return; }
            var reason = window.prompt("Why? (kept in the rollout's event log)", "");
            if (reason === null) { return; }
            var result = document.getElementById("action-result");
            fetch("/v1/rollouts/" + encodeURIComponent(button.dataset.rollout) + "/" + button.dataset.verb, {
              method: "POST",
              headers: { "Content-Type": "application/json",
                         "Authorization": "Bearer " + (sessionStorage.getItem("rolloutToken") || "") },
              body: JSON.stringify({ by: "status page", reason: reason })
            }).then(function (answer) {
              return answer.json().then(function (body) {
                result.textContent = answer.ok ? button.dataset.verb + " recorded: the rollout is now " + body.phase
                                               : (body.message || "HTTP " + answer.status);
                refresh();
              });
            }).catch(function (error) { result.textContent = String(error); });
          });
          reveal();
          setInterval(refresh, \(max(1, refreshSeconds)) * 1000);
        })();
        </script>

        """
    }
}
