// Draws every chart of the page (figure.chart, see templates/_charts.html) with the Plotly this
// site serves: the figure's JSON is in the page, nothing is fetched from the network.
(function () {
  "use strict";
  var CONFIG = {displaylogo: false, responsive: true};

  function draw() {
    if (typeof window.Plotly === "undefined") {
      return; // the table under each chart still holds its numbers
    }
    document.querySelectorAll("figure.chart").forEach(function (figure) {
      var source = figure.querySelector("script.chart-figure");
      var plot = figure.querySelector(".chart-plot");
      if (!source || !plot) {
        return;
      }
      var spec = JSON.parse(source.textContent);
      window.Plotly.newPlot(plot, spec.data || [], spec.layout || {}, CONFIG);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
