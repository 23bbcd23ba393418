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
  // The editor (editor.js) redraws its charts with the same settings.
  window.stpsimCharts = { config: config, hideTester: hideTester };
  document.querySelectorAll("[data-figure]").forEach(function (div) {
    var source = document.getElementById(div.getAttribute("data-figure"));
    if (!source) { return; }
    var figure = JSON.parse(source.textContent);
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
