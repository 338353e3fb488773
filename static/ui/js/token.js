/* The user token of an iframe page and Clockify's refresh protocol.
 *
 * The page asks the parent window with the `refreshAddonToken` window message and accepts the new
 * token only from a window message sent by the parent from one of the configured Clockify origins.
 * Clockify may instead reload the iframe with a fresh `auth_token`; both paths end with a new token.
 */
(function () {
  "use strict";
  var cfgEl = document.getElementById("ui-config");
  var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : {};
  var JWT_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
  var waiting = [];
  var token = cfg.token || new URLSearchParams(location.search).get("auth_token") || "";

  function originPattern(allowed) {
    // "https://*.clockify.me" allows any subdomain; everything else must match exactly.
    var escaped = allowed.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*");
    return new RegExp("^" + escaped + "$");
  }
  var allowedOrigins = (cfg.frameAncestors || []).map(originPattern);
  function originAllowed(origin) {
    return allowedOrigins.some(function (re) { return re.test(origin); });
  }

  function extractToken(data) {
    if (typeof data === "string") {
      if (JWT_RE.test(data)) return null; // a bare string is not a Clockify message
      try { data = JSON.parse(data); } catch (e) { return null; }
    }
    if (!data || typeof data !== "object") return null;
    var candidates = [data.authToken, data.auth_token, data.token];
    if (data.body && typeof data.body === "object") {
      candidates.push(data.body.authToken, data.body.auth_token, data.body.token);
    } else {
      candidates.push(data.body);
    }
    if (data.payload && typeof data.payload === "object") {
      candidates.push(data.payload.authToken, data.payload.token);
    }
    for (var i = 0; i < candidates.length; i++) {
      if (typeof candidates[i] === "string" && JWT_RE.test(candidates[i])) return candidates[i];
    }
    return null;
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !originAllowed(event.origin)) return;
    var fresh = extractToken(event.data);
    if (!fresh) return;
    token = fresh;
    var resolve = waiting;
    waiting = [];
    resolve.forEach(function (fn) { fn(fresh); });
    document.dispatchEvent(new CustomEvent("ui:token", { detail: fresh }));
  });

  function requestRefresh(timeoutMs) {
    return new Promise(function (resolve, reject) {
      waiting.push(resolve);
      var message = JSON.stringify({ action: "refreshAddonToken" });
      try { (window.top || window.parent).postMessage(message, "*"); } catch (e) { /* not framed */ }
      if (window.parent !== window.top) {
        try { window.parent.postMessage(message, "*"); } catch (e) { /* ignore */ }
      }
      setTimeout(function () {
        var i = waiting.indexOf(resolve);
        if (i >= 0) { waiting.splice(i, 1); reject(new Error("token refresh timed out")); }
      }, timeoutMs || 15000);
    });
  }

  function withToken(url, value) {
    var u = new URL(url, location.href);
    u.searchParams.set("auth_token", value || token);
    return u.pathname + u.search + u.hash;
  }

  window.UIToken = {
    config: cfg,
    get: function () { return token; },
    refresh: requestRefresh,
    withToken: withToken,
  };
})();
