// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";
  // GOV.UK pattern: move focus to the error summary so screen readers announce it.
  var summary = document.querySelector("[data-module='error-summary']");
  if (summary) { summary.focus(); }
}());
