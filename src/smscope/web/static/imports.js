// The import page while an import runs: its progress and counts, read from the API
// every half second, in place; the page reloads when the import ends, to show the
// rejected rows. Without JavaScript the page refreshes itself instead.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.dataset.state !== "running") { return; }
  var bar = document.getElementById("import-bar");
  var share = document.getElementById("import-share");
  var format = new Intl.NumberFormat();
  function update(imp) {
    var done = imp.size ? Math.min(100, (100 * imp.bytes_read) / imp.size) : 100;
    bar.value = done;
    bar.textContent = done.toFixed(1) + " %";
    share.textContent = done.toFixed(1) + " % of " + (imp.size / 1024).toFixed(1) + " KB read";
    box.querySelectorAll("[data-count]").forEach(function (cell) {
      cell.textContent = format.format(imp[cell.dataset.count]);
    });
  }
  function poll() {
    fetch("/api/v1/imports/" + box.dataset["import"], {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (imp) {
        if (!imp) { window.setTimeout(poll, 2000); return; }
        update(imp);
        if (imp.state !== "running") { window.location.reload(); return; }
        window.setTimeout(poll, 500);
      })
      .catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
}());
