// The campaign form's live counter and preview: while the text, the lists or the
// numbers change, ask the server (POST /api/v1/texts/segments, the same count the
// campaign will store) and show encoding, segments, cost and one contact's text.
// Without JavaScript the form's "Update" button does the same on the server.
(function () {
  "use strict";
  var form = document.getElementById("campaign-form");
  if (!form || !window.fetch) { return; }
  var csrf = form.getAttribute("data-csrf");
  var text = document.getElementById("text");
  var lists = document.getElementById("lists");
  var numbers = document.getElementById("numbers");
  var track = document.getElementById("track_links");
  var offsetInput = document.getElementById("preview-offset");
  var offset = parseInt(offsetInput.value, 10) || 0;
  var timer = null;
  var serial = 0;
  document.getElementById("preview-refresh").hidden = true;

  function set(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value; }
  }

  function chosenLists() {
    var out = [];
    for (var i = 0; i < lists.options.length; i++) {
      if (lists.options[i].selected) { out.push(lists.options[i].value); }
    }
    return out;
  }

  function numberLines() {
    return numbers.value.split(/[\n,]/).map(function (s) { return s.trim(); })
      .filter(function (s) { return s.length > 0; }).slice(0, 1000);
  }

  function show(data) {
    set("counter-encoding", data.encoding);
    set("counter-characters", String(data.characters));
    set("counter-segments", String(data.segments));
    set("counter-remaining", String(data.remaining));
    set("counter-cost", String(data.cost));
    set("counter-recipients", Number(data.recipients).toLocaleString("en"));
    var problem = document.getElementById("counter-problem");
    problem.textContent = data.problem || "";
    problem.hidden = !data.problem;
    var p = data.preview;
    if (p) {
      var name = [p.first_name, p.last_name].filter(Boolean).join(" ");
      set("preview-who", "for " + (name ? name + " " : "") + p.number);
      set("preview-text", p.text);
      offset = p.offset;
    } else {
      set("preview-who", "— choose a list or type numbers");
      set("preview-text", "");
      offset = 0;
    }
    offsetInput.value = String(offset);
  }

  function update() {
    var mine = ++serial;
    var body = {text: text.value.slice(0, 10000), lists: chosenLists(),
                numbers: numberLines(), track_links: track.checked, offset: offset};
    fetch("/api/v1/texts/segments", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === serial) { show(data); } })
      .catch(function () { /* the counter stays as it was; saving still works */ });
  }

  function soon() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(update, 150);
  }

  text.addEventListener("input", soon);
  numbers.addEventListener("input", soon);
  lists.addEventListener("change", function () { offset = 0; soon(); });
  track.addEventListener("change", soon);
  document.getElementById("preview-next").addEventListener("click", function (event) {
    event.preventDefault();
    offset += 1;
    update();
  });
}());
