/* Dashboard: a live bootstrap progress bar while a bootstrap runs. */
(function () {
  "use strict";
  var bar = document.getElementById("bootstrap-progress");
  if (!bar) return;
  var status = document.getElementById("bootstrap-status");
  var percent = document.getElementById("bootstrap-percent");
  var message = document.getElementById("bootstrap-message");
  var runBtn = document.getElementById("bootstrap-run");
  var running = bar.dataset.running === "1";

  function render(state) {
    bar.value = state.percent;
    percent.textContent = state.percent + "%";
    status.textContent = state.status;
    status.className = "pill " + state.status;
    message.textContent = state.message || "";
    if (runBtn) runBtn.disabled = state.running;
    var counts = document.getElementById("entity-counts");
    if (counts && state.counts && state.counts.length) {
      var grid = UI.el("div", { className: "stats", id: "entity-counts" }, state.counts.map(function (c) {
        return UI.el("div", { className: "stat" }, [
          UI.el("div", { className: "stat-value", text: String(c[1]) }),
          UI.el("div", { className: "stat-label", text: c[0] }),
        ]);
      }));
      counts.replaceWith(grid);
    }
    running = state.running;
  }

  document.addEventListener("ui:posted", function (e) {
    if (e.detail.button === runBtn) { running = true; status.textContent = "queued"; status.className = "pill queued"; }
  });
  UI.poll(function () {
    if (!running) return null;
    return UI.api("GET", "ui/dashboard/bootstrap").then(render);
  }, 1500);
})();
