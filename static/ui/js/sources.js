/* Custom sources: create and rotate show the URL and secret once, in the page only; the table
 * refreshes after every change. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  function reveal(data) {
    $("secret-url").textContent = data.url;
    $("secret-value").textContent = data.secret;
    $("secret-box").hidden = false;
    $("secret-box").scrollIntoView({ block: "nearest" });
  }
  function refresh() {
    return UI.api("GET", "ui/sources/rows", null, { accept: "text/html" }).then(function (html) {
      UI.swapHTML($("source-rows"), html);
      $("no-sources").hidden = $("source-rows").rows.length > 0;
    });
  }
  var form = $("source-form");
  if (form) form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = $("source-name").value.trim();
    if (!name) return;
    UI.api("POST", "ui/sources/create", { name: name }).then(function (data) {
      reveal(data);
      UI.toast("Source created");
      $("source-name").value = "";
      return refresh();
    }, function (err) { UI.toast(err.message, "error"); });
  });
  document.addEventListener("click", function (event) {
    var b = event.target.closest && event.target.closest(".source-rotate");
    if (!b) return;
    if (!window.confirm("Rotate the secret? The old one keeps working for a short grace period.")) return;
    UI.api("POST", "ui/sources/" + encodeURIComponent(b.dataset.id) + "/rotate", {}).then(function (data) {
      reveal(data);
      UI.toast("Secret rotated");
      return refresh();
    }, function (err) { UI.toast(err.message, "error"); });
  });
  document.addEventListener("ui:posted", function (e) {
    if (e.detail.button.hasAttribute("data-refresh-sources")) { $("secret-box").hidden = true; refresh(); }
  });
})();
