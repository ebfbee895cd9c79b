// The cookie tool's script. It enhances pages that work without it:
// every choice is a form the server records (POST /cookies/choice), and
// the server renders whether the banner shows and whether analytics may
// run. The script never reads the choice cookie (it is HttpOnly) and
// writes nothing to the browser's storage. It
//   - reports the browser's Global Privacy Control setting with each choice
//     and shows that it is honoured;
//   - records banner choices without reloading the page (through
//     POST /api/cookies/choice), falling back to the form on any error;
//   - clears local and session storage when optional cookies are refused
//     or withdrawn: no entry there is strictly necessary;
//   - starts the analytics script once analytics is accepted.
(function () {
  "use strict";

  var gpc = navigator.globalPrivacyControl === true;

  function markGPC() {
    if (!gpc) return;
    document.querySelectorAll("[data-gpc-field]").forEach(function (f) { f.value = "1"; });
    document.querySelectorAll("[data-gpc-note]").forEach(function (n) { n.hidden = false; });
  }

  function clearStorage() {
    try { window.localStorage.clear(); } catch (e) { /* storage may be disabled */ }
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be disabled */ }
  }

  function startAnalytics() {
    var state = document.getElementById("cookie-state");
    if (!state || document.querySelector("script[data-analytics-loaded]")) return;
    state.dataset.analytics = "on";
    var s = document.createElement("script");
    s.src = state.dataset.analyticsSrc;
    s.defer = true;
    s.dataset.analyticsLoaded = "1";
    document.body.appendChild(s);
  }

  // refuses says whether an action leaves every optional category off.
  function refuses(action) {
    return action === "reject-all" || action === "close" || action === "withdraw";
  }

  function enhanceBanner() {
    var banner = document.querySelector("[data-cookie-banner]");
    if (!banner) return;
    var form = banner.querySelector("form");
    form.addEventListener("submit", function (ev) {
      var btn = ev.submitter;
      if (!btn || !btn.value || !window.fetch) return;
      ev.preventDefault();
      var action = btn.value;
      if (refuses(action)) clearStorage();
      fetch("/api/cookies/choice", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ action: action, from: "banner", gpc: gpc })
      }).then(function (res) {
        if (!res.ok) throw new Error("status " + res.status);
        return res.json();
      }).then(function (body) {
        banner.hidden = true;
        if (body.choice && body.choice.categories && body.choice.categories.analytics) {
          startAnalytics();
        }
        var done = document.getElementById("cookie-banner-done");
        if (done) done.textContent = "Your cookie choice is saved.";
      }).catch(function () {
        // Let the server handle it the way it does without script.
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "action";
        hidden.value = action;
        form.appendChild(hidden);
        form.submit();
      });
    });
  }

  function enhanceSettings() {
    document.querySelectorAll("form[data-cookie-form]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        var btn = ev.submitter;
        var action = btn ? btn.value : "";
        var analyticsBox = form.querySelector('input[name="category"][value="analytics"]');
        var prefsBox = form.querySelector('input[name="category"][value="preferences"]');
        var keepsStorage = action === "accept-all" ||
          (action === "save" && ((prefsBox && prefsBox.checked) || (analyticsBox && analyticsBox.checked)));
        if (refuses(action) || !keepsStorage) clearStorage();
      });
    });
  }

  function start() {
    markGPC();
    enhanceBanner();
    enhanceSettings();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
