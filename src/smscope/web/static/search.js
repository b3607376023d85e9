// Progressive helpers of the search pages (each page works without them).
"use strict";

// "Previous page" of a keyset search: the pages have no way back of their own (a
// cursor only goes on), so the button goes back in the browser's history, and is
// shown only when the previous page there is this search's.
document.querySelectorAll("[data-history-back]").forEach(function (button) {
  var here = window.location.origin + window.location.pathname;
  if (document.referrer.indexOf(here) !== 0 || window.history.length < 2) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () { window.history.back(); });
});

// A search form sends only the fields that are filled in, so that its address (a
// bookmark) reads as the search: /messages?campaign=3&status=expired.
document.querySelectorAll("form[data-compact]").forEach(function (form) {
  form.addEventListener("submit", function () {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.name && field.value === "") {
        field.disabled = true;
      }
    });
  });
});
// Fields disabled on the way out are enabled again when the page comes back from the
// browser's cache (the back button).
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-compact] [disabled]").forEach(function (field) {
    field.disabled = false;
  });
});
