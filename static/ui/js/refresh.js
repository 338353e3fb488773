/* The refresh page: ask Clockify for a fresh token, then reload the page that failed with it. */
(function () {
  "use strict";
  function showFailure() {
    var el = document.getElementById("refresh-failed");
    if (el) el.hidden = false;
  }
  window.UIToken.refresh(15000).then(function (fresh) {
    location.replace(window.UIToken.withToken(location.href, fresh));
  }, showFailure);
})();
