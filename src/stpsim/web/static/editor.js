/* The plan editor: as a control changes, ask the server for a preview of the edited plan
   (POST /web/preview, JSON, the session's CSRF token in a header) and redraw the charts, their
   tables and the key numbers. Requests wait for 60 ms of quiet; an answer to an older request
   is dropped. Everything shown is set as text (textContent), never as HTML. Without JavaScript
   the form still saves. */
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form || typeof Plotly === "undefined" || !window.fetch || !window.stpsimCharts) { return; }
  var charts = window.stpsimCharts;
  var status = document.getElementById("preview-status");
  var token = form.querySelector("input[name=csrf_token]").value;
  var DELAY = 60;  // ms of quiet before asking: a drag sends one request, a click answers quickly
  var timer = null;
  var controller = null;
  var sequence = 0;

  function say(text) { status.textContent = text; }

  // A care model that is off has its coverage and roll-out greyed out (the server ignores them).
  function syncModel(fieldset) {
    var on = fieldset.querySelector("input[type=checkbox]");
    fieldset.querySelectorAll("input[type=range], select").forEach(function (control) {
      control.disabled = !on.checked;
    });
    fieldset.classList.toggle("model--off", !on.checked);
  }

  function showValue(range) {
    var output = document.getElementById(range.id + "-value");
    if (output) { output.textContent = range.value + "%"; }
    range.setAttribute("aria-valuetext", range.value + "%");
  }

  function fields() {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && typeof value === "string") { out[name] = value; }
    });
    return out;
  }

  function fillTable(table, data, words) {
    if (!table || !data) { return; }
    var caption = table.querySelector("caption");
    if (caption) { caption.textContent = data.caption; }
    var body = table.querySelector("tbody");
    var rows = document.createDocumentFragment();
    data.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      row.forEach(function (cell, i) {
        var td = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) { td.setAttribute("scope", "row"); } else if (!words) { td.className = "numeric"; }
        td.textContent = cell;
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    body.replaceChildren(rows);
  }

  // Errors from the server, each next to its field (and cleared when the plan is right again).
  function clearErrors() {
    form.querySelectorAll(".js-error").forEach(function (p) { p.remove(); });
    form.querySelectorAll("[aria-invalid=true]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      var ids = (el.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id.slice(-9) !== "-js-error";
      });
      if (ids.length) { el.setAttribute("aria-describedby", ids.join(" ")); } else { el.removeAttribute("aria-describedby"); }
    });
  }

  function showErrors(list) {
    clearErrors();
    list.forEach(function (error, n) {
      var field = document.getElementById(error.id);
      if (!field) { field = form; }
      var p = document.createElement("p");
      p.className = "error-message js-error";
      p.id = error.id + "-" + n + "-js-error";
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = "Error: ";
      p.appendChild(hidden);
      p.appendChild(document.createTextNode(error.message));
      if (field === form) {
        form.insertBefore(p, form.firstChild);
      } else {
        var group = field.closest(".form-group, .fieldset") || field.parentNode;
        var label = group.querySelector("label, legend");
        group.insertBefore(p, label ? label.nextSibling : group.firstChild);
        field.setAttribute("aria-invalid", "true");
        var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        ids.push(p.id);
        field.setAttribute("aria-describedby", ids.join(" "));
      }
    });
  }

  // The phone's bar of key numbers: the rows it shows (data-row), with the plan's figure.
  function fillKeybar(data) {
    document.querySelectorAll("#keybar [data-row]").forEach(function (item) {
      var row = data.rows[Number(item.getAttribute("data-row"))];
      if (!row) { return; }
      item.querySelector(".keybar__label").textContent = row[0] + ":";
      item.querySelector("b").textContent = row[1];
    });
  }

  // The browser's performance timeline measures each redraw (benchmarks/editor_browser.py):
  // "stpsim-slider" from the control's change, "stpsim-preview" from the request.
  function measured() {
    if (!window.performance || !performance.measure) { return; }
    try {
      performance.measure("stpsim-slider", "stpsim-input");
      performance.measure("stpsim-preview", "stpsim-sent");
    } catch (e) { /* a mark is missing: nothing to measure */ }
  }

  function mark(name) {
    if (window.performance && performance.mark) { performance.mark(name); }
  }

  function redraw(answer) {
    fillTable(document.getElementById("preview-numbers"), answer.numbers);
    fillTable(document.getElementById("changes-table"), answer.changes, true);
    fillKeybar(answer.numbers);
    var drawn = [];
    Object.keys(answer.charts).forEach(function (key) {
      var chart = answer.charts[key];
      var div = document.getElementById("chart-" + key);
      if (!div) { return; }
      var fitted = charts.fit(div, chart.figure);
      drawn.push(Plotly.react(div, fitted.data, fitted.layout, charts.config).then(charts.hideTester));
      var caption = document.getElementById("chart-" + key + "-caption");
      if (caption) { caption.textContent = chart.caption; }
      fillTable(document.getElementById("chart-" + key + "-table"), chart.table);
    });
    Promise.all(drawn).then(measured);
  }

  function preview() {
    timer = null;
    if (controller) { controller.abort(); }
    controller = typeof AbortController === "undefined" ? null : new AbortController();
    var mine = ++sequence;
    mark("stpsim-sent");
    say("Updating the charts…");
    fetch("/web/preview", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
      body: JSON.stringify({
        plan_id: Number(form.getAttribute("data-plan")),
        version: Number(form.getAttribute("data-version")),
        fields: fields()
      }),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    }).then(function (answer) {
      if (mine !== sequence) { return; }
      if (answer.status === 200) {
        clearErrors();
        redraw(answer.body);
        say("The charts and key numbers show your changes (not saved yet).");
      } else if (answer.status === 422) {
        showErrors(answer.body.fields || []);
        say("The charts are not updated: " + (answer.body.lines || []).length + " problem(s), shown next to the fields.");
      } else {
        say("The charts could not be updated: " + (answer.body.lines || ["error " + answer.status]).join(" "));
      }
    }).catch(function (error) {
      if (error && error.name === "AbortError") { return; }
      if (mine === sequence) { say("The charts could not be updated. Check your connection and try again."); }
    });
  }

  function changed(event) {
    mark("stpsim-input");
    var target = event.target;
    if (target.type === "range") { showValue(target); }
    if (target.type === "checkbox") { syncModel(target.closest("fieldset")); }
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(preview, DELAY);
  }

  form.querySelectorAll("fieldset.model").forEach(syncModel);
  form.querySelectorAll("input[type=range]").forEach(showValue);
  form.addEventListener("input", changed);
  form.addEventListener("change", function (event) {
    if (event.target.type === "checkbox" || event.target.tagName === "SELECT") { changed(event); }
  });
}());
