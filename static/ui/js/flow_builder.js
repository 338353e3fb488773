/* Flow builder: trigger, conditions (path picker fed by a sample event), actions (operation picker
 * and parameter form from the explorer catalogue, or a generic HTTP request), save, test run. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("builder-config").textContent);
  var el = UI.el;
  var flow = cfg.flow || { name: "", enabled: true, trigger: { events: [] }, conditions: { mode: "all", rules: [] }, actions: [] };
  var $ = function (id) { return document.getElementById(id); };
  var opsById = {};
  cfg.operations.forEach(function (op) { opsById[op.operation_id] = op; });
  var NO_VALUE_OPS = ["exists", "not_exists"];

  /* ---- trigger ---- */
  var kind = $("trigger-kind"), eventSel = $("trigger-event"), sourceSel = $("trigger-source");
  cfg.events.forEach(function (name) { eventSel.appendChild(el("option", { value: name, text: name })); });
  if (cfg.customSources.length) {
    kind.appendChild(el("option", { value: "custom_source", text: "a custom webhook source delivers" }));
    cfg.customSources.forEach(function (s) { sourceSel.appendChild(el("option", { value: s.id, text: s.name })); });
  }
  function showTriggerKind() {
    var custom = kind.value === "custom_source";
    $("trigger-events-field").hidden = custom;
    $("trigger-source-field").hidden = !custom;
  }
  kind.addEventListener("change", function () { showTriggerKind(); loadSample(); });
  eventSel.addEventListener("change", loadSample);
  sourceSel.addEventListener("change", loadSample);

  /* ---- sample event and path picker ---- */
  function paths(value, prefix, out, depth) {
    if (depth > 6 || out.length > 400) return out;
    if (Array.isArray(value)) {
      if (value.length) paths(value[0], prefix + "[0]", out, depth + 1);
    } else if (value && typeof value === "object") {
      Object.keys(value).forEach(function (k) {
        var p = /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? prefix + "." + k : prefix + "['" + k.replace(/'/g, "\\'") + "']";
        out.push(p);
        paths(value[k], p, out, depth + 1);
      });
    }
    return out;
  }
  var samplePayload = null;
  function loadSample() {
    if (!cfg.canEdit) return; // samples are real payloads: admins only
    var q = new URLSearchParams();
    if (kind.value === "custom_source") q.set("custom_source", sourceSel.value);
    else if (eventSel.selectedOptions.length) q.set("event_type", eventSel.selectedOptions[0].value);
    else return;
    UI.api("GET", "ui/flows/sample-event?" + q.toString()).then(function (data) {
      samplePayload = data.payload;
      var list = $("sample-paths");
      list.replaceChildren();
      if (!samplePayload) { $("sample-hint").textContent = "No sample yet for this trigger: type paths by hand."; return; }
      paths(samplePayload, "$", []).forEach(function (p) { list.appendChild(el("option", { value: p })); });
      $("sample-hint").textContent = (data.origin === "received" ? "Paths from the latest event received" :
        "Paths from a sample event") + ": start typing $. in a condition to pick one.";
      var test = $("test-event");
      if (test && !test.value.trim()) test.value = JSON.stringify(samplePayload, null, 2);
    }, function () { /* the picker is a convenience */ });
  }

  /* ---- conditions ---- */
  function conditionRow(rule) {
    rule = rule || { path: "", op: "==", value: "" };
    var path = el("input", { type: "text", list: "sample-paths", placeholder: "$.path", "aria-label": "Path", className: "cond-path" });
    path.value = rule.path || "";
    var op = el("select", { "aria-label": "Operator", className: "cond-op" }, cfg.ops.map(function (o) { return el("option", { value: o, text: o }); }));
    op.value = rule.op || "==";
    var value = el("input", { type: "text", placeholder: "value (JSON or text)", "aria-label": "Value", className: "cond-value" });
    if (rule.value !== undefined) value.value = typeof rule.value === "string" ? rule.value : JSON.stringify(rule.value);
    var remove = el("button", { type: "button", className: "btn secondary small", text: "✕", "aria-label": "Remove condition" });
    var row = el("div", { className: "builder-row cond" }, [path, op, value, remove]);
    function sync() { value.hidden = NO_VALUE_OPS.indexOf(op.value) >= 0; }
    op.addEventListener("change", sync);
    sync();
    remove.addEventListener("click", function () { row.remove(); });
    $("conditions").appendChild(row);
  }
  $("add-condition").addEventListener("click", function () { conditionRow(); });

  function parseValue(text) {
    var t = text.trim();
    if (t === "") return "";
    try { return JSON.parse(t); } catch (e) { return text; }
  }

  /* ---- actions ---- */
  function jsonText(v) { return v === undefined ? "" : JSON.stringify(v, null, 2); }

  function paramField(param, value) {
    var input = el("input", { type: "text", "data-param": param.name, "data-in": param.in,
      placeholder: param.example !== undefined ? String(param.example) : (param.type || "") });
    if (value !== undefined) input.value = typeof value === "string" ? value : JSON.stringify(value);
    else if (param.name === "workspaceId") input.value = "{{installation.workspaceId}}";
    var label = param.name + (param.required ? " *" : "") + " · " + param.in;
    return el("div", { className: "field" }, [el("label", { text: label }), input,
      param.description ? el("div", { className: "hint", text: param.description.slice(0, 200) }) : null]);
  }

  function renderOperationForm(box, opId, action) {
    var form = box.querySelector(".op-form");
    form.replaceChildren(el("p", { className: "muted small", text: "Loading operation…" }));
    UI.api("GET", UI.config.base + "/api/v1/explorer/operations/" + encodeURIComponent(opId)).then(function (op) {
      form.replaceChildren();
      box.dataset.operation = op.operation_id;
      form.appendChild(el("p", { className: "small" }, [el("span", { className: "method " + op.method, text: op.method }), " ",
        el("span", { className: "mono", text: op.path }), op.summary ? " · " + op.summary : ""]));
      var grid = el("div", { className: "filters" });
      (op.parameters || []).filter(function (p) { return p.in === "path" || p.in === "query"; }).forEach(function (p) {
        var source = p.in === "path" ? (action.params || {}) : (action.query || {});
        grid.appendChild(paramField(p, source[p.name]));
      });
      form.appendChild(grid);
      if (op.request_body_schema || op.method !== "GET") {
        var body = el("textarea", { className: "op-body", rows: "6", spellcheck: "false", "aria-label": "Request body" });
        body.value = action.body !== undefined ? jsonText(action.body) : (op.examples && op.examples.body !== undefined ? jsonText(op.examples.body) : "");
        form.appendChild(el("div", { className: "field" }, [el("label", { text: "Body (JSON)" + (op.request_body_required ? " *" : "") }), body]));
      }
    }, function (err) { form.replaceChildren(el("p", { className: "muted", text: err.message })); });
  }

  function clockifyAction(action) {
    var box = el("div", { className: "action-box", "data-type": "clockify" });
    var search = el("input", { type: "search", list: "op-list", placeholder: "Search operations, e.g. tag, project…",
      "aria-label": "Operation", className: "op-search" });
    if (action.operation) search.value = action.operation;
    box.appendChild(actionHead(box, "Clockify API call"));
    box.appendChild(el("div", { className: "field" }, [el("label", { text: "Operation" }), search]));
    box.appendChild(el("div", { className: "op-form" }));
    var shown = action.operation || "";
    function choose() {
      var id = search.value.trim();
      if (!opsById[id] || id === shown) return;
      shown = id;
      renderOperationForm(box, id, id === action.operation ? action : {});
    }
    // A datalist pick fires "input"; typing an exact id and leaving the field fires "change".
    search.addEventListener("input", choose);
    search.addEventListener("change", choose);
    if (action.operation) { box.dataset.operation = action.operation; renderOperationForm(box, action.operation, action); }
    return box;
  }

  function httpAction(action) {
    var box = el("div", { className: "action-box", "data-type": "http" });
    box.appendChild(actionHead(box, "HTTP request"));
    var method = el("select", { className: "http-method", "aria-label": "Method" },
      ["POST", "GET", "PUT", "PATCH", "DELETE"].map(function (m) { return el("option", { value: m, text: m }); }));
    method.value = action.method || "POST";
    var url = el("input", { type: "url", className: "http-url", placeholder: "https://example.com/hook", "aria-label": "URL" });
    url.value = action.url || "";
    var headers = el("textarea", { className: "http-headers", rows: "3", spellcheck: "false", "aria-label": "Headers" });
    headers.value = action.headers ? jsonText(action.headers) : "";
    var body = el("textarea", { className: "http-body", rows: "5", spellcheck: "false", "aria-label": "Body" });
    body.value = action.body !== undefined ? jsonText(action.body) : '{\n  "event": "{{event}}"\n}';
    var sign = el("input", { type: "checkbox", className: "http-sign" });
    sign.checked = !!action.sign;
    box.appendChild(el("div", { className: "builder-row" }, [method, url]));
    box.appendChild(el("div", { className: "field" }, [el("label", { text: "Headers (JSON object)" }), headers]));
    box.appendChild(el("div", { className: "field" }, [el("label", { text: "Body (JSON)" }), body]));
    box.appendChild(el("label", { className: "row small" }, [sign, " Sign with the flow's secret (Standard Webhooks)"]));
    return box;
  }

  function actionHead(box, title) {
    var up = el("button", { type: "button", className: "btn secondary small", text: "↑", "aria-label": "Move up" });
    var remove = el("button", { type: "button", className: "btn secondary small", text: "✕", "aria-label": "Remove action" });
    up.addEventListener("click", function () { if (box.previousElementSibling) box.parentNode.insertBefore(box, box.previousElementSibling); renumber(); });
    remove.addEventListener("click", function () { box.remove(); renumber(); });
    return el("div", { className: "card-head" }, [el("h3", { className: "action-title", text: title }), el("div", { className: "row" }, [up, remove])]);
  }
  function renumber() {
    Array.prototype.forEach.call($("actions").children, function (box, i) {
      var h = box.querySelector(".action-title");
      h.textContent = "Step " + i + " · " + (box.dataset.type === "http" ? "HTTP request" : "Clockify API call");
    });
  }
  function addAction(action) {
    $("actions").appendChild(action.type === "http" ? httpAction(action) : clockifyAction(action));
    renumber();
  }
  var opList = el("datalist", { id: "op-list" }, cfg.operations.map(function (op) {
    return el("option", { value: op.operation_id, label: op.method + " " + op.path + (op.summary ? " — " + op.summary : "") });
  }));
  document.body.appendChild(opList);
  cfg.actionTypes.forEach(function (type) {
    var b = el("button", { type: "button", className: "btn secondary small", id: "add-" + type + "-action",
      text: type === "http" ? "+ HTTP request" : "+ Clockify API call" });
    b.addEventListener("click", function () { addAction({ type: type }); });
    $("add-actions").appendChild(b);
  });
  if (!cfg.actionTypes.length) $("add-actions").appendChild(el("span", { className: "muted small", text: "No action types are available on this plan." }));

  /* ---- secrets: write-only; existing ones show as "set" and can be replaced or removed ---- */
  var SECRET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
  function secretRow(name) {
    var existing = !!name;
    var nameInput = el("input", { type: "text", className: "secret-name", placeholder: "NAME", "aria-label": "Secret name",
      autocomplete: "off" });
    nameInput.value = name || "";
    nameInput.readOnly = existing;
    var value = el("input", { type: "password", className: "secret-value", autocomplete: "new-password",
      "aria-label": "Secret value", placeholder: existing ? "set · type a new value to replace it" : "value" });
    var parts = [nameInput, value];
    if (existing) parts.push(el("span", { className: "pill succeeded secret-set", text: "set" }));
    if (cfg.canEdit) {
      var remove = el("button", { type: "button", className: "btn secondary small", text: "✕", "aria-label": "Remove secret" });
      remove.addEventListener("click", function () {
        if (existing) { row.dataset.removed = "1"; row.hidden = true; } else { row.remove(); }
      });
      parts.push(remove);
    } else {
      value.disabled = true;
    }
    var row = el("div", { className: "builder-row secret-row", "data-existing": existing ? "1" : "" }, parts);
    $("secrets").appendChild(row);
    return row;
  }
  function showSecrets(names) {
    $("secrets").replaceChildren();
    (names || []).forEach(function (name) { secretRow(name); });
  }
  showSecrets(flow.secrets);
  $("secrets-card").hidden = !(cfg.actionTypes.indexOf("http") >= 0 || (flow.secrets || []).length);
  if (cfg.canEdit) $("add-secret").addEventListener("click", function () { secretRow(""); });
  else $("add-secret").remove();

  function collectSecrets(errors) {
    var changes = {}, any = false;
    Array.prototype.forEach.call(document.querySelectorAll("#secrets .secret-row"), function (row, i) {
      var name = row.querySelector(".secret-name").value.trim();
      var value = row.querySelector(".secret-value").value;
      if (row.dataset.removed) { changes[name] = null; any = true; return; }
      if (!value) return; // an existing secret left as it is; an empty new row is ignored
      if (!SECRET_NAME.test(name)) { errors["secrets[" + i + "]"] = "a name of letters, digits and _, starting with a letter"; return; }
      changes[name] = value; any = true;
    });
    return any ? changes : undefined;
  }

  /* ---- load / collect / save ---- */
  $("flow-name").value = flow.name || "";
  $("flow-enabled").checked = flow.enabled !== false;
  if (flow.trigger && flow.trigger.custom_source) { kind.value = "custom_source"; sourceSel.value = flow.trigger.custom_source; }
  (flow.trigger && flow.trigger.events || []).forEach(function (name) {
    Array.prototype.forEach.call(eventSel.options, function (o) { if (o.value === name) o.selected = true; });
  });
  showTriggerKind();
  $("cond-mode").value = (flow.conditions && flow.conditions.mode) || "all";
  ((flow.conditions && flow.conditions.rules) || []).forEach(conditionRow);
  (flow.actions || []).forEach(addAction);
  loadSample();

  function parseJSONField(text, field, errors) {
    if (!text.trim()) return undefined;
    try { return JSON.parse(text); } catch (e) { errors[field] = "not valid JSON"; return undefined; }
  }

  function collect(errors) {
    var trigger = kind.value === "custom_source" ? { custom_source: sourceSel.value }
      : { events: Array.prototype.map.call(eventSel.selectedOptions, function (o) { return o.value; }) };
    var rules = Array.prototype.map.call(document.querySelectorAll("#conditions .cond"), function (row) {
      var rule = { path: row.querySelector(".cond-path").value.trim(), op: row.querySelector(".cond-op").value };
      if (NO_VALUE_OPS.indexOf(rule.op) < 0) rule.value = parseValue(row.querySelector(".cond-value").value);
      return rule;
    });
    var actions = Array.prototype.map.call($("actions").children, function (box, i) {
      var field = "actions[" + i + "]";
      if (box.dataset.type === "http") {
        var a = { type: "http", method: box.querySelector(".http-method").value, url: box.querySelector(".http-url").value.trim() };
        var h = parseJSONField(box.querySelector(".http-headers").value, field + ".headers", errors);
        if (h !== undefined) a.headers = h;
        var b = parseJSONField(box.querySelector(".http-body").value, field + ".body", errors);
        if (b !== undefined) a.body = b;
        if (box.querySelector(".http-sign").checked) a.sign = true;
        return a;
      }
      var action = { type: "clockify", operation: box.dataset.operation || box.querySelector(".op-search").value.trim() };
      var params = {}, query = {};
      box.querySelectorAll("[data-param]").forEach(function (input) {
        if (input.value === "") return;
        (input.dataset.in === "path" ? params : query)[input.dataset.param] = input.dataset.in === "path" ? input.value : parseValue(input.value);
      });
      if (Object.keys(params).length) action.params = params;
      if (Object.keys(query).length) action.query = query;
      var body = box.querySelector(".op-body");
      if (body) { var parsed = parseJSONField(body.value, field + ".body", errors); if (parsed !== undefined) action.body = parsed; }
      return action;
    });
    return { name: $("flow-name").value.trim(), enabled: $("flow-enabled").checked, trigger: trigger,
      conditions: { mode: $("cond-mode").value, rules: rules }, actions: actions };
  }

  function showErrors(errors) {
    var box = $("form-errors");
    var keys = Object.keys(errors || {});
    if (!keys.length) { box.hidden = true; return; }
    box.replaceChildren(el("strong", { text: "Please fix: " }), el("ul", {}, keys.map(function (k) {
      var msg = errors[k];
      return el("li", {}, [el("code", { text: k }), " " + (Array.isArray(msg) ? msg.join(" ") : String(msg))]);
    })));
    box.hidden = false;
  }

  function apiErrors(err) {
    var d = err.data;
    if (d && typeof d === "object") return d.errors || (d.detail ? { error: d.detail } : d);
    return { error: err.message };
  }

  $("flow-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!cfg.api || !cfg.canEdit) return;
    var errors = {};
    var doc = collect(errors);
    var secrets = collectSecrets(errors);
    if (secrets) doc.secrets = secrets;
    if (Object.keys(errors).length) { showErrors(errors); return; }
    showErrors(null);
    $("save-status").textContent = "Saving…";
    var req = cfg.flow ? UI.api("PATCH", cfg.api + "/" + cfg.flow.id, doc) : UI.api("POST", cfg.api, doc);
    req.then(function (saved) {
      $("save-status").textContent = "Saved";
      UI.toast("Flow saved");
      showSecrets((saved.secrets || []).map(function (s) { return s.name; })); // values are never sent back
      var id = saved.id || saved.public_id;
      if (!cfg.flow && id) location.replace(UI.config.base + "/ui/flows/" + encodeURIComponent(id) + "?auth_token=" + encodeURIComponent(window.UIToken.get()));
    }, function (err) {
      $("save-status").textContent = "";
      showErrors(apiErrors(err));
      UI.toast(err.status === 403 ? "Only workspace admins can change flows." : "Not saved", "error");
    });
  });

  var del = $("delete-flow");
  if (del) del.addEventListener("click", function () {
    if (!window.confirm("Delete this flow and its run history?")) return;
    UI.api("DELETE", cfg.api + "/" + cfg.flow.id).then(function () {
      location.replace(UI.config.base + "/ui/flows?auth_token=" + encodeURIComponent(window.UIToken.get()));
    }, function (err) { UI.toast(err.message, "error"); });
  });

  /* ---- run history: new runs and status changes show up without a reload ---- */
  var runTable = $("run-table");
  if (runTable && cfg.canEdit) {
    UI.poll(function () {
      return UI.api("GET", "ui/flows/" + encodeURIComponent(runTable.dataset.flow) + "/runs", null, { accept: "text/html" }).then(function (html) {
        UI.swapHTML($("run-rows"), html);
        $("no-runs").hidden = $("run-rows").rows.length > 0;
      });
    }, 2500);
  }

  /* ---- test run: the form as it is now, on a sample event; nothing is sent ---- */
  var testBtn = $("run-test");
  if (testBtn) testBtn.addEventListener("click", function () {
    var out = $("test-result");
    var event;
    try { event = JSON.parse($("test-event").value || "{}"); } catch (e) { UI.toast("The sample event is not valid JSON", "error"); return; }
    var errors = {};
    var doc = collect(errors);
    if (Object.keys(errors).length) { showErrors(errors); return; }
    var body = { flow: doc, event: event };
    if (doc.trigger.events && doc.trigger.events.length) body.event_type = doc.trigger.events[0];
    testBtn.disabled = true;
    UI.api("POST", cfg.api + "/test-run", body).then(function (result) {
      showErrors(null);
      renderTest(out, result);
    }, function (err) {
      showErrors(apiErrors(err));
      out.hidden = true;
    }).then(function () { testBtn.disabled = false; });
  });

  function renderTest(out, result) {
    out.replaceChildren();
    var would = result.would_run;
    out.appendChild(el("p", { className: "row" }, [el("span", { className: "pill " + (would ? "succeeded" : "skipped"), id: "test-verdict",
      text: would ? "would run" : "would not run" }), result.trigger_matched === false ? el("span", { className: "muted small", text: "the event type is not a trigger of this flow" }) : null]));
    var rules = (result.conditions && result.conditions.rules) || [];
    if (rules.length) {
      out.appendChild(el("h3", { text: "Conditions (" + result.conditions.mode + ")" }));
      out.appendChild(el("table", {}, [el("tbody", {}, rules.map(function (r) {
        return el("tr", {}, [el("td", { text: r.matched ? "✓" : "✗" }), el("td", { className: "mono", text: r.path + " " + r.op + " " + (r.value === undefined ? "" : JSON.stringify(r.value)) }),
          el("td", { className: "muted small", text: r.error ? r.error : "actual: " + JSON.stringify(r.actual) })]);
      }))]));
    }
    (result.requests || []).forEach(function (req) {
      out.appendChild(el("h3", { className: "mt", text: "Step " + req.step + (req.error ? " · error" : "") }));
      if (req.error) out.appendChild(el("p", { className: "mono", text: req.error }));
      var shown = Object.assign({}, req); delete shown.step; delete shown.error;
      if (Object.keys(shown).length) out.appendChild(el("pre", { className: "json", text: JSON.stringify(shown, null, 2) }));
    });
    out.hidden = false;
  }
})();
