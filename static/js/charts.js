// What the patient's and the care team's charts share: days written as the pages write them,
// legends that show each series' own marker (shape or dash: colour is never the only
// difference), and severity bands shaded *and labelled* behind questionnaire totals.
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }

  var BAND_FILLS = [
    "rgba(30,107,58,0.07)", "rgba(180,140,0,0.08)", "rgba(180,83,9,0.09)",
    "rgba(166,27,27,0.09)", "rgba(120,20,20,0.12)"
  ];

  function dayLabel(value) {
    // "Nov 7", like the dates in the pages' text and tables (the clinic's locale, en-US).
    return new Date(value).toLocaleDateString("en-US", { day: "numeric", month: "short" });
  }

  // Each band of `options.bands` ({low, high, label}) shaded, its name written at its top left.
  var bandsPlugin = {
    id: "bands",
    beforeDatasetsDraw: function (chart, args, options) {
      if (!options.bands) { return; }
      var ctx = chart.ctx, area = chart.chartArea, y = chart.scales.y;
      ctx.save();
      options.bands.forEach(function (band, i) {
        var top = y.getPixelForValue(Math.min(band.high + 0.5, y.max));
        var bottom = y.getPixelForValue(Math.max(band.low - 0.5, y.min));
        ctx.fillStyle = BAND_FILLS[Math.min(i, BAND_FILLS.length - 1)];
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
        ctx.fillStyle = "#3e4c59";
        ctx.font = "11px system-ui, sans-serif";
        ctx.textBaseline = "top";
        ctx.fillText(band.label, area.left + 4, top + 3);
      });
      ctx.restore();
    }
  };

  // The legend draws each series' marker: its point shape, or a line (dashed if the series
  // is) for averages. A dataset may name its legend marker with `legendStyle`.
  var legend = {
    position: "bottom",
    labels: {
      usePointStyle: true,
      boxHeight: 10,
      generateLabels: function (chart) {
        var items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
        items.forEach(function (item) {
          var dataset = chart.data.datasets[item.datasetIndex];
          if (dataset.legendStyle) { item.pointStyle = dataset.legendStyle; }
          // With point styles the legend would draw every line solid: keep the dash.
          if (dataset.borderDash) { item.lineDash = dataset.borderDash; }
        });
        return items;
      }
    }
  };

  // One marker shape per meaning, on every chart of both pages (and in their legends).
  var MARKERS = {
    mood: "circle", anxiety: "rect", total: "circle", baseline: "star", response: "triangle",
    remission: "rectRounded", session: "rectRot", safety: "crossRot"
  };
  var SESSION_COLOUR = "#5b4b8a", SAFETY_COLOUR = "#a61b1b";

  // Vertical lines across the chart at `options.lines` ({x, colour, dash}): sessions dashed,
  // safety events solid.
  var linesPlugin = {
    id: "timelineLines",
    afterDatasetsDraw: function (chart, args, options) {
      if (!options.lines) { return; }
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x;
      ctx.save();
      options.lines.forEach(function (line) {
        if (line.x < x.min || line.x > x.max) { return; }
        var px = x.getPixelForValue(line.x);
        ctx.strokeStyle = line.colour;
        ctx.setLineDash(line.dash || []);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
      });
      ctx.restore();
    }
  };

  // A series of markers only (no line), e.g. the sessions along the top of a chart.
  function markers(label, shape, colour, points, radius) {
    return {
      label: label, type: "scatter", data: points, showLine: false, pointStyle: shape,
      pointRadius: radius || 7, pointBorderWidth: 2, borderColor: colour, backgroundColor: colour,
      clip: 10
    };
  }

  // Time axes run from the first day shown to the end of today (the patient's own day), so
  // the last label is today, not tomorrow.
  function dayAxis(since, until) {
    return { min: Date.parse(since + "T00:00:00"), max: Date.parse(until + "T00:00:00") + 86400000 - 1 };
  }

  window.CareCharts = {
    DAY: 86400000, dayLabel: dayLabel, bandsPlugin: bandsPlugin, legend: legend,
    MARKERS: MARKERS, SESSION_COLOUR: SESSION_COLOUR, SAFETY_COLOUR: SAFETY_COLOUR,
    linesPlugin: linesPlugin, markers: markers, dayAxis: dayAxis
  };
})();
