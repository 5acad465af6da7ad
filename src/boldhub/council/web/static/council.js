// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";
  // GOV.UK pattern: move focus to the error summary so screen readers announce it.
  var summary = document.querySelector("[data-module='govuk-error-summary']");
  if (summary) { summary.focus(); }

  // A table wider than its box scrolls inside it: the keyboard must reach the box to
  // scroll it, and a screen reader needs its name (the heading above it).
  Array.prototype.forEach.call(document.querySelectorAll(".bh-table-scroll"), function (box) {
    if (box.hasAttribute("tabindex")) { return; }
    var heading = box.previousElementSibling;
    while (heading && !/^H[1-6]$/.test(heading.tagName)) { heading = heading.previousElementSibling; }
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", heading ? heading.textContent : "Table");
  });

  // Drop zone: dropping a file anywhere on the zone fills the file input.
  var zones = document.querySelectorAll("[data-drop-zone]");
  Array.prototype.forEach.call(zones, function (zone) {
    var input = zone.querySelector("input[type=file]");
    if (!input) { return; }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("bh-drop-zone--active");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("bh-drop-zone--active"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
      }
    });
  });

  // A file over the limit is refused here, before it is sent; the server refuses it too.
  Array.prototype.forEach.call(document.querySelectorAll("form[data-max-bytes]"), function (form) {
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    form.addEventListener("submit", function (event) {
      var inputs = form.querySelectorAll("input[type=file]");
      for (var i = 0; i < inputs.length; i++) {
        var files = inputs[i].files;
        if (files && files.length && files[0].size > max) {
          event.preventDefault();
          window.location.href = "/upload?error=too-large";
          return;
        }
      }
    });
  });

  // Long steps (reading a big export, encoding) take a while: say so, and stop a second click.
  Array.prototype.forEach.call(document.querySelectorAll("form[method=post]"), function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (b) {
        b.setAttribute("aria-disabled", "true");
      });
    });
  });
}());
