/* Flow list: enable/disable toggles (admins; the API refuses everyone else). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.classList || !box.classList.contains("flow-toggle")) return;
    var id = box.dataset.flow;
    var want = box.checked;
    box.disabled = true;
    UI.api("POST", "api/v1/flows/" + encodeURIComponent(id) + (want ? "/enable" : "/disable"), {}).then(function () {
      UI.toast(want ? "Flow enabled" : "Flow disabled");
    }, function (err) {
      box.checked = !want;
      UI.toast(err.message, "error");
    }).then(function () { box.disabled = false; });
  });
})();
