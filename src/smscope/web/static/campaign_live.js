// The campaign page's figures, live while it sends: Server-Sent Events from
// /campaigns/{id}/events carry the figures whenever they change; each element marked
// data-live="name" takes its new text. Without JavaScript the page is complete on
// reload.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var url = live.getAttribute("data-events");
  if (!url) { return; }
  var source = new EventSource(url);
  var state = document.querySelector("[data-live-state]");
  var note = document.querySelector("[data-live-note]");

  source.addEventListener("figures", function (event) {
    var data = JSON.parse(event.data);
    var figures = data.figures;
    var marked = document.querySelectorAll("[data-live]");
    for (var i = 0; i < marked.length; i++) {
      var name = marked[i].getAttribute("data-live");
      if (Object.prototype.hasOwnProperty.call(figures, name)) {
        var text = figures[name] + (name === "sent" ? " sent" : "");
        if (marked[i].textContent !== text) { marked[i].textContent = text; }
      }
    }
    if (state && state.textContent !== data.state) {
      state.textContent = data.state;
      state.className = "state state-" + data.state;
    }
    if (note) { note.textContent = data.state === "sending" ? "updated live while it sends" : "as of now"; }
    staleActions(data.state);
  });

  // The actions were rendered for the state the page loaded in: once the campaign is
  // in another one (completed, suspended, paused elsewhere), they no longer fit — hide
  // them and offer a reload, which renders the right ones.
  var card = document.getElementById("actions-card");
  function staleActions(now) {
    if (!card || card.getAttribute("data-rendered-state") === now) { return; }
    var parts = card.querySelectorAll(".actions, .test-send");
    for (var i = 0; i < parts.length; i++) { parts[i].hidden = true; parts[i].style.display = "none"; }
    var stale = document.getElementById("actions-stale");
    if (stale) {
      stale.querySelector("[data-stale-state]").textContent = now;
      stale.hidden = false;
    }
  }
  source.addEventListener("end", function () {
    source.close();
    if (note) { note.textContent = "final — reload for the final charts"; }
  });
}());
