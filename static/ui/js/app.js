/* Shared page behaviour: token-authenticated fetch with refresh-and-retry, links that carry the
 * current token, toasts, confirm-and-POST buttons and polling. Pages add their own small scripts. */
(function () {
  "use strict";
  var T = window.UIToken;
  var cfg = T.config;

  function url(path) {
    return path.charAt(0) === "/" ? path : cfg.base + "/" + path;
  }

  /* fetch() with the Bearer token; on 401 ask Clockify for a fresh token once and retry. */
  function api(method, path, body, opts) {
    opts = opts || {};
    function send() {
      var headers = { "Authorization": "Bearer " + T.get(), "Accept": opts.accept || "application/json" };
      var init = { method: method, headers: headers, credentials: "omit", cache: "no-store" };
      if (body !== undefined && body !== null) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(url(path), init);
    }
    return send().then(function (res) {
      if (res.status !== 401) return res;
      return T.refresh(15000).then(send, function () { return res; });
    }).then(function (res) {
      var type = res.headers.get("Content-Type") || "";
      var parse = type.indexOf("application/json") >= 0 ? res.json() : res.text();
      return parse.then(function (data) {
        if (!res.ok) {
          var err = new Error(errorText(data, res.status));
          err.status = res.status;
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  function errorText(data, status) {
    if (data && typeof data === "object") {
      var msg = data.detail || data.error || data.message;
      if (typeof msg === "string") return msg;
      try { return JSON.stringify(data).slice(0, 300); } catch (e) { /* fall through */ }
    }
    if (status === 403) return "You need to be a workspace admin to do this.";
    return "Request failed (" + status + ")";
  }

  var toastTimer = null;
  function toast(message, kind) {
    var el = document.getElementById("toast");
    if (!el) return;
    el.textContent = message;
    el.className = "toast" + (kind === "error" ? " error" : "");
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  /* Internal links carry the token in the URL (Clockify's convention): keep it current. */
  document.addEventListener("click", function (event) {
    var a = event.target.closest && event.target.closest("a[data-nav]");
    if (a) a.href = T.withToken(a.getAttribute("href"));
  });
  document.addEventListener("submit", function (event) {
    var field = event.target.querySelector && event.target.querySelector("input[name=auth_token]");
    if (field) field.value = T.get();
  });

  /* Ask for a fresh token shortly before this one expires, so polling never stalls. */
  if (cfg.exp) {
    var delay = cfg.exp * 1000 - Date.now() - 60000;
    if (delay > 0 && delay < 2147483647) setTimeout(function () { T.refresh(30000).catch(function () {}); }, delay);
  }

  /* <button data-post="ui/..." data-confirm="..." data-reload> : POST, then toast or reload. */
  document.addEventListener("click", function (event) {
    var btn = event.target.closest && event.target.closest("[data-post]");
    if (!btn) return;
    event.preventDefault();
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    btn.disabled = true;
    api("POST", btn.dataset.post, btn.dataset.body ? JSON.parse(btn.dataset.body) : {}).then(function (data) {
      toast((data && data.message) || btn.dataset.done || "Done");
      if (btn.hasAttribute("data-reload")) location.replace(T.withToken(location.href));
      if (btn.hasAttribute("data-go-run") && data && data.id) location.assign(T.withToken(cfg.base + "/ui/flows/runs/" + encodeURIComponent(data.id)));
      document.dispatchEvent(new CustomEvent("ui:posted", { detail: { button: btn, data: data } }));
    }, function (err) {
      toast(err.message, "error");
    }).then(function () { btn.disabled = false; });
  });

  /* Run fn every ms while the page is visible; fn returns a promise. */
  function poll(fn, ms) {
    var timer = null;
    function tick() {
      if (document.hidden) { timer = setTimeout(tick, ms); return; }
      Promise.resolve().then(fn).catch(function () {}).then(function () { timer = setTimeout(tick, ms); });
    }
    timer = setTimeout(tick, ms);
    return function stop() { clearTimeout(timer); };
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  /* Replace an element's children with an HTML fragment rendered (and escaped) by the server. */
  function swapHTML(target, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    target.replaceChildren(tpl.content);
  }

  window.UI = { api: api, toast: toast, poll: poll, el: el, swapHTML: swapHTML, url: url, config: cfg };
})();
