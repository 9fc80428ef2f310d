// Draws the patient's "My progress" charts from the JSON embedded by the page (json_script):
// mood and anxiety with 7-day averages, and one chart per questionnaire over its severity
// bands, shaded and labelled (charts.js), with the baseline marked and the treatment
// sessions on the same time axis. Each meaning has its own marker shape, named in the
// legend (CareCharts.MARKERS). The tables on the page carry the same data for screen
// readers and without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("history-data");
  if (!source || typeof Chart === "undefined" || !window.CareCharts) { return; }
  var data = JSON.parse(source.textContent);
  var C = CareCharts, M = C.MARKERS;
  var moodColour = "#2f5d8a", anxietyColour = "#b2552b";
  // From a week before the course began (the server's `since`) to the end of today.
  var axis = C.dayAxis(data.since, data.until);

  function at(day) { return Date.parse(day + "T12:00:00"); }

  var sessions = data.sessions || [];
  var lines = sessions.map(function (s) { return { x: at(s.day), colour: "rgba(91,75,138,0.45)", dash: [3, 3] }; });
  function sessionMarkers(yMax) {
    if (!sessions.length) { return []; }
    return [C.markers("Treatment session", M.session, C.SESSION_COLOUR, sessions.map(function (s) {
      return { x: at(s.day), y: yMax };
    }))];
  }

  function options(yMax) {
    return {
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      scales: {
        x: { type: "linear", min: axis.min, max: axis.max, ticks: { callback: C.dayLabel, maxTicksLimit: 5 } },
        y: { min: 0, max: yMax, ticks: { includeBounds: false } }
      },
      plugins: {
        legend: C.legend,
        timelineLines: { lines: lines },
        tooltip: { callbacks: {
          title: function (items) { return C.dayLabel(items[0].parsed.x); },
          label: function (item) {
            if (item.dataset.label === "Treatment session") { return "Treatment session"; }
            return item.dataset.label + ": " + item.parsed.y;
          }
        } }
      }
    };
  }

  var moodCanvas = document.getElementById("mood-chart");
  if (moodCanvas && data.checkins.length) {
    var pts = function (key) {
      return data.checkins.map(function (p) { return { x: at(p.day), y: p[key] }; });
    };
    new Chart(moodCanvas, {
      type: "line",
      data: { datasets: [
        { label: "Mood", data: pts("mood"), showLine: false, pointRadius: 3, pointStyle: M.mood, borderColor: moodColour, backgroundColor: moodColour },
        { label: "Mood, 7-day average", data: pts("moodAvg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderColor: moodColour, backgroundColor: moodColour },
        { label: "Anxiety", data: pts("anxiety"), showLine: false, pointRadius: 3, pointStyle: M.anxiety, borderColor: anxietyColour, backgroundColor: anxietyColour },
        { label: "Anxiety, 7-day average", data: pts("anxietyAvg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderDash: [6, 4], borderColor: anxietyColour, backgroundColor: anxietyColour }
      ].concat(sessionMarkers(10)) },
      options: options(10),
      plugins: [C.linesPlugin]
    });
  }

  data.questionnaires.forEach(function (q) {
    var canvas = document.getElementById("chart-" + q.code);
    if (!canvas) { return; }
    var point = function (p) { return { x: at(p.day), y: p.total }; };
    var base = q.points.filter(function (p) { return p.baseline; }).map(point);
    var opts = options(q.max);
    opts.plugins.bands = { bands: q.bands };
    new Chart(canvas, {
      type: "line",
      data: { datasets: [{
        label: q.name + " total", borderColor: "#1f2933", backgroundColor: "#1f2933", pointRadius: 4, pointStyle: M.total,
        data: q.points.map(point)
      }].concat(
        base.length ? [C.markers("Baseline (before your first session)", M.baseline, "#0b6e4f", base, 9)] : [],
        sessionMarkers(q.max)
      ) },
      options: opts,
      plugins: [C.bandsPlugin, C.linesPlugin]
    });
  });
})();
