// "Previous page" of a keyset search: the pages have no way back of their own (a
// cursor only goes on), so the button goes back in the browser's history, and is
// shown only when the previous page there is this search's.
"use strict";
document.querySelectorAll("[data-history-back]").forEach(function (button) {
  var here = window.location.origin + window.location.pathname;
  if (document.referrer.indexOf(here) !== 0 || window.history.length < 2) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () { window.history.back(); });
});
