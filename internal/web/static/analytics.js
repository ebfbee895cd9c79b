// First-party analytics. The server only includes this script when the
// visitor's cookie choice allows analytics, and it discards events from
// anyone whose choice does not. The script sends the page's path (never
// its query string, which may carry tokens) and the names of features
// used (elements marked data-analytics-feature="name"). It reads nothing
// about the device: no user agent details, no screen size, no storage.
(function () {
  "use strict";

  var state = document.getElementById("cookie-state");
  if (!state || state.dataset.analytics !== "on") return;

  function send(event) {
    try {
      fetch("/api/analytics/events", {
        method: "POST",
        credentials: "same-origin",
        keepalive: true,
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(event)
      }).catch(function () { /* analytics must never disturb the page */ });
    } catch (e) { /* as above */ }
  }

  send({ type: "pageview", path: location.pathname });

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-analytics-feature]") : null;
    if (el) send({ type: "feature", path: location.pathname, name: el.dataset.analyticsFeature });
  });
})();
