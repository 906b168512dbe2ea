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
      var plot = figure.querySelector(".chart-plot");
      if (!plot || !plot.dataset.figure) {
        return;
      }
      var spec = JSON.parse(plot.dataset.figure);
      window.Plotly.newPlot(plot, spec.data || [], spec.layout || {}, CONFIG);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
}());
