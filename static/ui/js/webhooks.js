/* Webhook log: the first page refreshes itself, so new events appear (highlighted) and
 * statuses move on (received -> processed) without a reload. */
(function () {
  "use strict";
  var table = document.getElementById("event-table");
  if (!table || table.dataset.live !== "1") return;
  var tbody = document.getElementById("event-rows");
  var empty = document.getElementById("no-events");
  var latest = parseInt(table.dataset.latest || "0", 10);
  var filters = JSON.parse(document.getElementById("filter-query").textContent);

  UI.poll(function () {
    var q = new URLSearchParams(filters);
    q.set("after", String(latest));
    return UI.api("GET", "ui/webhooks/rows?" + q.toString(), null, { accept: "text/html" }).then(function (html) {
      var tpl = document.createElement("template");
      tpl.innerHTML = html;
      var rows = tpl.content.querySelectorAll("tr[data-id]");
      if (rows.length) latest = Math.max(latest, parseInt(rows[0].dataset.id, 10));
      tbody.replaceChildren(tpl.content);
      if (empty) empty.hidden = rows.length > 0;
    });
  }, 2000);
})();
