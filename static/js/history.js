// Draws the patient's history charts from the JSON embedded by the page (json_script): mood
// and anxiety with 7-day averages, and one chart per questionnaire over its severity bands,
// shaded and labelled (charts.js). Series differ by shape or dash as well as colour. The
// tables on the page carry the same data for screen readers and without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("history-data");
  if (!source || typeof Chart === "undefined" || !window.CareCharts) { return; }
  var data = JSON.parse(source.textContent);
  var moodColour = "#2f5d8a", anxietyColour = "#b2552b";
  var DAY = CareCharts.DAY;
  var until = Date.parse(data.until + "T00:00:00") + DAY;

  function at(day) { return Date.parse(day + "T12:00:00"); }

  // One time axis for every chart: from a week before the first answer (at most 90 days).
  var days = data.checkins.map(function (c) { return at(c.day); });
  data.questionnaires.forEach(function (q) {
    q.points.forEach(function (p) { days.push(at(p.day)); });
  });
  var first = days.length ? Math.min.apply(null, days) : until - 7 * DAY;
  var xMin = Math.max(Date.parse(data.since + "T00:00:00"), first - 7 * DAY - DAY / 2);

  function options(yMax, extra) {
    return Object.assign({
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      scales: {
        x: { type: "linear", min: xMin, max: until, ticks: { callback: CareCharts.dayLabel, maxTicksLimit: 5 } },
        y: { min: 0, max: yMax, ticks: { includeBounds: false } }
      },
      plugins: {
        legend: CareCharts.legend,
        tooltip: { callbacks: {
          title: function (items) { return CareCharts.dayLabel(items[0].parsed.x); },
          label: function (item) { return item.dataset.label + ": " + item.parsed.y; }
        } }
      }
    }, extra || {});
  }

  var moodCanvas = document.getElementById("mood-chart");
  if (moodCanvas && data.checkins.length) {
    var pts = function (key) {
      return data.checkins.map(function (p) { return { x: at(p.day), y: p[key] }; });
    };
    new Chart(moodCanvas, {
      type: "line",
      data: { datasets: [
        { label: "Mood", data: pts("mood"), showLine: false, pointRadius: 3, borderColor: moodColour, backgroundColor: moodColour },
        { label: "Mood, 7-day average", data: pts("moodAvg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderColor: moodColour, backgroundColor: moodColour },
        { label: "Anxiety", data: pts("anxiety"), showLine: false, pointRadius: 3, pointStyle: "rectRot", borderColor: anxietyColour, backgroundColor: anxietyColour },
        { label: "Anxiety, 7-day average", data: pts("anxietyAvg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderDash: [6, 4], borderColor: anxietyColour, backgroundColor: anxietyColour }
      ] },
      options: options(10)
    });
  }

  data.questionnaires.forEach(function (q) {
    var canvas = document.getElementById("chart-" + q.code);
    if (!canvas) { return; }
    var opts = options(q.max);
    opts.plugins.bands = { bands: q.bands };
    new Chart(canvas, {
      type: "line",
      data: { datasets: [{
        label: q.name + " total", borderColor: "#1f2933", backgroundColor: "#1f2933", pointRadius: 4,
        data: q.points.map(function (p) { return { x: at(p.day), y: p.total }; })
      }] },
      options: opts,
      plugins: [CareCharts.bandsPlugin]
    });
  });
})();
