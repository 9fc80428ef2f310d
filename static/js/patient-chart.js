// Staff patient page: daily mood / anxiety and questionnaire totals on one time axis, with
// treatment sessions as markers and severity bands shaded and labelled (charts.js). Data
// comes from the page (json_script); the tables on the page carry the same data without
// JavaScript. Series differ by shape or dash as well as colour.
(function () {
  "use strict";
  var source = document.getElementById("trends-data");
  if (!source || typeof Chart === "undefined" || !window.CareCharts) { return; }
  var data = JSON.parse(source.textContent);
  var DAY = CareCharts.DAY, dayLabel = CareCharts.dayLabel;
  var xMin = Date.parse(data.since + "T00:00:00"), xMax = Date.parse(data.until + "T00:00:00") + DAY;
  // Every time is the patient's wall clock without an offset, so all points fall on the
  // patient's own days whatever the viewer's zone.
  var sessionTimes = data.sessions.map(function (s) { return Date.parse(s.at_local); });
  var sessionsPlugin = {
    id: "sessionLines",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx, area = chart.chartArea, x = chart.scales.x;
      ctx.save();
      ctx.strokeStyle = "rgba(91,75,138,0.45)";
      ctx.setLineDash([3, 3]);
      sessionTimes.forEach(function (t) {
        if (t < xMin || t > xMax) { return; }
        var px = x.getPixelForValue(t);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
      });
      ctx.restore();
    }
  };

  function sessionDataset(y) {
    return {
      label: "Treatment session", type: "scatter", pointStyle: "triangle", pointRadius: 7,
      borderColor: "#5b4b8a", backgroundColor: "#5b4b8a", clip: 10,
      data: data.sessions.map(function (s) { return { x: Date.parse(s.at_local), y: y, session: s }; })
    };
  }

  function options(yMax, extra) {
    return Object.assign({
      maintainAspectRatio: false, animation: false, parsing: false,
      scales: {
        x: { type: "linear", min: xMin, max: xMax, ticks: { callback: dayLabel, maxTicksLimit: 8 } },
        y: { min: 0, max: yMax, ticks: { includeBounds: false } }
      },
      plugins: {
        legend: CareCharts.legend,
        tooltip: { callbacks: {
          title: function (items) { return dayLabel(items[0].parsed.x); },
          label: function (item) {
            var raw = item.raw;
            if (raw.session) { return raw.session.route + (raw.session.dose ? ", " + raw.session.dose : "") + " (" + raw.session.status + ")"; }
            return item.dataset.label + ": " + raw.y + (raw.note ? " — " + raw.note : "");
          }
        } }
      }
    }, extra || {});
  }

  var moodCanvas = document.getElementById("mood-chart");
  if (moodCanvas) {
    var pts = function (key) { return data.checkins.map(function (c) { return { x: Date.parse(c.day + "T12:00:00"), y: c[key] }; }); };
    new Chart(moodCanvas, {
      type: "line",
      data: { datasets: [
        { label: "Mood", data: pts("mood"), showLine: false, pointRadius: 2.5, borderColor: "#2f5d8a", backgroundColor: "#2f5d8a" },
        { label: "Mood, 7-day average", data: pts("mood_avg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderColor: "#2f5d8a", backgroundColor: "#2f5d8a" },
        { label: "Anxiety", data: pts("anxiety"), showLine: false, pointRadius: 2.5, pointStyle: "rectRot", borderColor: "#b2552b", backgroundColor: "#b2552b" },
        { label: "Anxiety, 7-day average", data: pts("anxiety_avg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderDash: [6, 4], borderColor: "#b2552b", backgroundColor: "#b2552b" },
        sessionDataset(10)
      ] },
      options: options(10),
      plugins: [sessionsPlugin]
    });
  }

  Object.keys(data.questionnaires).forEach(function (code) {
    var q = data.questionnaires[code];
    var canvas = document.getElementById("chart-" + code);
    if (!canvas) { return; }
    var points = q.points.map(function (p) {
      return { x: Date.parse(p.at_local), y: p.total, note: p.baseline ? "baseline" : (p.remission ? "remission" : (p.response ? "response" : "")) };
    });
    var opts = options(q.max);
    opts.plugins.bands = { bands: q.bands };
    new Chart(canvas, {
      type: "line",
      data: { datasets: [
        {
          label: q.name + " total", data: points, borderColor: "#1f2933", backgroundColor: "#1f2933", legendStyle: "circle",
          pointRadius: q.points.map(function (p) { return p.baseline ? 7 : 4; }),
          pointStyle: q.points.map(function (p) { return p.baseline ? "star" : (p.remission ? "rectRounded" : (p.response ? "triangle" : "circle")); })
        },
        sessionDataset(q.max)
      ] },
      options: opts,
      plugins: [CareCharts.bandsPlugin, sessionsPlugin]
    });
  });
})();
