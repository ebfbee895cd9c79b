// The start page of a member: it tells the server the browser's time
// zone the first time (so that meeting times are shown in it), and copies
// a new meeting's link. Everything works without it: times are then in
// UTC until the member picks a zone, and the link can be selected by hand.
(function () {
  "use strict";

  var form = document.querySelector("form[data-tz-detect]");
  if (form) {
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      zone = "";
    }
    // Only a zone name the server can read; "UTC" needs no saving.
    if (/^[A-Za-z_]+(\/[A-Za-z0-9_+\-]+)+$/.test(zone)) {
      form.elements.time_zone.value = zone;
      form.submit();
    }
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var id = button.getAttribute("data-copy");
    var input = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!input || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) status.textContent = "Link copied.";
      }, function () {
        input.select();
        if (status) status.textContent = "Press Ctrl+C (or ⌘+C) to copy the selected link.";
      });
    });
  });

  var started = document.getElementById("started");
  if (started) {
    started.focus();
  }
})();
