/* Explorer: filter the tag tree, build a form for the chosen operation, execute it through the
 * explorer API, show the response, save the call as a flow action. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("explorer-config");
  if (!cfgEl || !document.getElementById("op-tree")) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var el = UI.el;
  var $ = function (id) { return document.getElementById(id); };
  var current = null;

  /* search: every word must appear */
  $("op-search").addEventListener("input", function () {
    var words = this.value.toLowerCase().split(/\s+/).filter(Boolean);
    var any = false;
    document.querySelectorAll("#op-tree details").forEach(function (d) {
      var shown = 0;
      d.querySelectorAll("button.op").forEach(function (b) {
        var text = b.dataset.text + " " + d.dataset.tag.toLowerCase();
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        b.hidden = !ok;
        if (ok) shown++;
      });
      d.hidden = shown === 0;
      if (words.length) d.open = shown > 0;
      if (shown) any = true;
    });
    $("no-ops").hidden = any;
  });

  document.getElementById("op-tree").addEventListener("click", function (event) {
    var b = event.target.closest("button.op");
    if (!b) return;
    document.querySelectorAll("button.op.active").forEach(function (x) { x.classList.remove("active"); });
    b.classList.add("active");
    load(b.dataset.op);
  });

  function load(id) {
    if (!cfg.api) { UI.toast("The explorer API is not available yet", "error"); return; }
    UI.api("GET", cfg.api + "/operations/" + encodeURIComponent(id)).then(render, function (err) { UI.toast(err.message, "error"); });
  }

  function render(op) {
    current = op;
    $("op-empty").hidden = true;
    $("op-detail").hidden = false;
    $("op-title").textContent = op.summary || op.operation_id;
    $("op-method").textContent = op.method;
    $("op-method").className = "method " + op.method;
    $("op-path").textContent = op.path;
    $("op-description").textContent = (op.description || "").slice(0, 600);
    var write = !op.is_read_only;
    $("op-mode").textContent = write ? "write" : "read";
    $("op-mode").className = "pill " + (write ? "skipped" : "ok");
    var params = $("op-params");
    params.replaceChildren();
    (op.parameters || []).forEach(function (p) {
      var input = el("input", { type: "text", "data-param": p.name, "data-in": p.in, id: "param-" + p.in + "-" + p.name,
        placeholder: p.example !== undefined ? String(p.example) : (p.default !== undefined ? String(p.default) : p.type) });
      var pre = op.prefilled || {};
      if (p.in === "path" && pre[p.name] !== undefined) input.value = pre[p.name];
      else if (p.default !== undefined && p.default !== null && p.required) input.value = String(p.default);
      params.appendChild(el("div", { className: "field" }, [
        el("label", { for: input.id, text: p.name + (p.required ? " *" : "") + " · " + p.in }), input]));
    });
    var hasBody = !!op.request_body_schema || (write && op.method !== "DELETE");
    $("op-body-field").hidden = !hasBody;
    $("op-body").value = op.examples && op.examples.body !== undefined ? JSON.stringify(op.examples.body, null, 2) : "";
    var note = $("op-write-note");
    var canRun = !!cfg.api && op.allowed !== false;
    note.hidden = !(write || !cfg.api);
    if (!cfg.api) note.textContent = "Executing operations is not available yet on this server.";
    else if (write && !cfg.planWrites) note.textContent = "This plan runs read-only (GET) operations only.";
    else if (write && !cfg.canWrite) note.textContent = "Write operations need a workspace owner or admin.";
    else if (write) note.textContent = "This operation changes data in your workspace: you will be asked to confirm.";
    $("op-execute").disabled = !canRun;
    $("response-card").hidden = true;
    $("save-card").hidden = !cfg.canSave || !cfg.api;
  }

  function collect() {
    var data = { params: {}, query: {} };
    document.querySelectorAll("#op-params [data-param]").forEach(function (input) {
      if (input.disabled || input.value === "") return;
      (input.dataset.in === "path" ? data.params : input.dataset.in === "query" ? data.query : (data.headers = data.headers || {}))[input.dataset.param] = input.value;
    });
    if (!$("op-body-field").hidden && $("op-body").value.trim()) {
      data.body = JSON.parse($("op-body").value);
    }
    return data;
  }

  $("op-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current || !cfg.api) return;
    var data;
    try { data = collect(); } catch (e) { UI.toast("The body is not valid JSON", "error"); return; }
    if (!current.is_read_only) {
      if (!window.confirm("Run " + current.method + " " + current.path + " against your workspace?")) return;
      data.confirm = true;
    }
    $("op-status").textContent = "Running…";
    $("op-execute").disabled = true;
    data.operation = current.operation_id;
    UI.api("POST", cfg.api + "/execute", data).then(show, function (err) {
      if (err.data && typeof err.data === "object" && err.data.status !== undefined) show(err.data);
      else { UI.toast(err.message, "error"); }
    }).then(function () { $("op-status").textContent = ""; $("op-execute").disabled = false; });
  });

  function show(result) {
    $("response-card").hidden = false;
    var st = result.status;
    $("resp-status").textContent = st === null || st === undefined ? "error" : String(st);
    $("resp-status").className = "pill " + (result.ok ? "ok" : "failed");
    $("resp-meta").textContent = (result.latency_ms !== undefined ? Math.round(result.latency_ms) + " ms" : "") +
      (result.body_truncated ? " · truncated" : "") + (result.error ? " · " + result.error : "");
    var body = result.body;
    $("resp-body").textContent = typeof body === "string" ? body : JSON.stringify(body, null, 2);
  }

  /* save as flow action */
  var flowSel = $("save-flow");
  if (flowSel) {
    cfg.flows.forEach(function (f) { flowSel.appendChild(el("option", { value: f.id, text: f.name })); });
    cfg.events.forEach(function (e) { $("save-event").appendChild(el("option", { value: e, text: e })); });
    flowSel.addEventListener("change", function () {
      $("save-name-field").hidden = $("save-event-field").hidden = !!flowSel.value;
    });
    $("save-action").addEventListener("click", function () {
      if (!current) return;
      var data;
      try { data = collect(); } catch (e) { UI.toast("The body is not valid JSON", "error"); return; }
      data.operation = current.operation_id;
      if (flowSel.value) data.flow_id = flowSel.value;
      else data.flow = { name: $("save-name").value.trim() || (current.summary || current.operation_id),
        trigger: { events: [$("save-event").value] } };
      UI.api("POST", cfg.api + "/save-as-flow-action", data).then(function (res) {
        UI.toast("Saved as step " + res.action_index + " of the flow");
        var link = UI.el("a", { "data-nav": "", href: UI.config.base + "/ui/flows/" + encodeURIComponent(res.flow_id), text: "Open the flow →" });
        $("save-result").replaceChildren(link);
      }, function (err) { UI.toast(err.message, "error"); });
    });
  }
})();
