// Scheduling form and meeting page enhancements. Everything here also
// works without this script: the server makes the recurrence from the
// picker's fields, and asks on a page of its own before a removal.
(function () {
  "use strict";

  // Show only the recurrence choices that apply to the chosen frequency.
  document.querySelectorAll("form[data-schedule]").forEach(function (form) {
    var repeat = form.querySelector("select[name=repeat]");
    if (repeat) {
      var sync = function () {
        form.querySelectorAll("[data-for]").forEach(function (el) {
          var on = el.getAttribute("data-for").split(" ").indexOf(repeat.value) >= 0;
          el.hidden = !on;
        });
      };
      repeat.addEventListener("change", sync);
      sync();
    }
    // The server knew no zone for this person: offer the browser's.
    if (form.hasAttribute("data-detect-zone")) {
      var tz = form.querySelector("input[name=time_zone]");
      var zone = "";
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
      var list = tz && tz.list;
      if (tz && zone && list && list.querySelector('option[value="' + zone.replace(/"/g, "") + '"]')) {
        tz.value = zone;
      }
    }
  });

  // Copy a link to the clipboard.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var input = document.getElementById(btn.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) { return; }
    btn.hidden = false;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        var label = btn.textContent;
        btn.textContent = "Copied";
        setTimeout(function () { btn.textContent = label; }, 2000);
      });
    });
  });

  // Ask in a dialog before a destructive form is sent; the answer is the
  // same confirm=yes the server's own confirming page sends.
  var dialog = document.getElementById("confirm-dialog");
  if (dialog && typeof dialog.showModal === "function") {
    var pending = null;
    dialog.addEventListener("close", function () {
      if (dialog.returnValue === "yes" && pending) {
        var yes = document.createElement("input");
        yes.type = "hidden"; yes.name = "confirm"; yes.value = "yes";
        pending.appendChild(yes);
        pending.submit();
      }
      pending = null;
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (form.querySelector("input[name=confirm]")) { return; }
        ev.preventDefault();
        pending = form;
        dialog.querySelector("[data-question]").textContent = form.getAttribute("data-confirm");
        dialog.querySelector("[data-detail]").textContent = form.getAttribute("data-detail") || "";
        dialog.querySelector("button[value=yes]").textContent = form.getAttribute("data-button") || "Remove";
        dialog.showModal();
      });
    });
  }
})();
