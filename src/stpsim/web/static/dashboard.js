/* Draws each chart from the JSON next to it (pages hold no inline script, so the
   Content-Security-Policy can forbid inline scripts). A click on a map footprint opens its page. */
(function () {
  "use strict";
  if (typeof Plotly === "undefined") { return; }
  // topojsonURL: plotly.js asks for a world outline even for a map that draws none (the app
  // answers with an empty one), so it must ask the app, not its CDN.
  var config = { displayModeBar: false, responsive: true, topojsonURL: "/static/topojson/" };
  // plotly.js measures text in an off-screen SVG of its own at the end of the body: hide it
  // from screen readers, which would otherwise read its leftover words as page content.
  function hideTester() {
    var tester = document.getElementById("js-plotly-tester");
    if (tester) { tester.setAttribute("aria-hidden", "true"); }
  }
  // A title broken into lines of at most ``width`` characters, at spaces.
  function wrap(text, width) {
    var lines = [];
    text.split("<br>").forEach(function (part) {  // a title's own line breaks stay
      var line = "";
      part.split(" ").forEach(function (word) {
        if (line && (line + " " + word).length > width) { lines.push(line); line = word; }
        else { line = line ? line + " " + word : word; }
      });
      if (line) { lines.push(line); }
    });
    return lines;
  }
  // On a narrow screen (a phone) a chart takes the layout its figure gives for it
  // (layout.meta.narrow: panels stacked, upright labels, more height) and a title that wraps.
  function fit(div, figure) {
    var layout = figure.layout, data = figure.data;
    if (div.clientWidth >= 640) { return { data: data, layout: layout }; }
    var narrow = (layout.meta && layout.meta.narrow) || {};
    var out = Object.assign({}, layout, narrow.layout || {});
    if (out.title && out.title.text) {
      var lines = wrap(out.title.text, Math.max(24, Math.floor(div.clientWidth / 8)));
      // plotly.js sets a multi-line title's first line above a "top" anchor: lower it a line.
      var drop = 24 / (out.height || 420);
      out.title = Object.assign({}, out.title, { text: lines.join("<br>"), y: 1 - drop, yanchor: "top" });
      out.margin = Object.assign({}, out.margin, { t: Math.max((out.margin || {}).t || 56, 40 + 20 * lines.length) });
    }
    if (narrow.trace) {
      data = data.map(function (trace) { return Object.assign({}, trace, narrow.trace); });
    }
    if (out.height) { div.style.minHeight = out.height + "px"; }
    return { data: data, layout: out };
  }
  // The editor (editor.js) redraws its charts with the same settings.
  window.stpsimCharts = { config: config, hideTester: hideTester, fit: fit };
  document.querySelectorAll("[data-figure]").forEach(function (div) {
    var source = document.getElementById(div.getAttribute("data-figure"));
    if (!source) { return; }
    var figure = fit(div, JSON.parse(source.textContent));
    Plotly.newPlot(div, figure.data, figure.layout, config).then(function (plot) {
      hideTester();
      plot.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        var target = point && point.customdata;
        if (typeof target === "string" && target.indexOf("/footprints/") === 0) {
          window.location.assign(target);
        }
      });
    });
  });
}());
