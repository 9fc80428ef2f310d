// Staff patient page: daily mood / anxiety and questionnaire totals on one time axis, with
// treatment sessions as markers and severity bands shaded and labelled. Data comes from the
// page (json_script); the tables on the page carry the same data without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("trends-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var DAY = 86400000;
  var xMin = Date.parse(data.since + "T00:00:00"), xMax = Date.parse(data.until + "T00:00:00") + DAY;
  // Every time is the patient's wall clock without an offset, so all points fall on the
  // patient's own days whatever the viewer's zone.
  var sessionTimes = data.sessions.map(function (s) { return Date.parse(s.at_local); });
  var bandColours = ["rgba(30,107,58,0.07)", "rgba(180,140,0,0.08)", "rgba(180,83,9,0.09)", "rgba(166,27,27,0.09)", "rgba(120,20,20,0.12)"];

  function dayLabel(value) {
    return new Date(value).toLocaleDateString(undefined, { day: "numeric", month: "short" });
  }

  var bandsPlugin = {
    id: "bands",
    beforeDatasetsDraw: function (chart, args, options) {
      if (!options.bands) { return; }
      var ctx = chart.ctx, area = chart.chartArea, y = chart.scales.y;
      ctx.save();
      options.bands.forEach(function (band, i) {
        var top = y.getPixelForValue(Math.min(band.high + 0.5, y.max));
        var bottom = y.getPixelForValue(Math.max(band.low - 0.5, y.min));
        ctx.fillStyle = bandColours[Math.min(i, bandColours.length - 1)];
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
        ctx.fillStyle = "#52606d";
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(band.label, area.left + 4, top + 12);
      });
      ctx.restore();
    }
  };
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
      borderColor: "#5b4b8a", backgroundColor: "#5b4b8a",
      data: data.sessions.map(function (s) { return { x: Date.parse(s.at_local), y: y, session: s }; })
    };
  }

  function options(yMax, extra) {
    return Object.assign({
      maintainAspectRatio: false, animation: false, parsing: false,
      scales: {
        x: { type: "linear", min: xMin, max: xMax, ticks: { callback: dayLabel, maxTicksLimit: 8 } },
        y: { min: 0, max: yMax }
      },
      plugins: {
        legend: { position: "bottom", labels: { boxWidth: 12 } },
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
        { label: "Mood, 7-day average", data: pts("mood_avg"), pointRadius: 0, borderWidth: 2, borderColor: "#2f5d8a" },
        { label: "Anxiety", data: pts("anxiety"), showLine: false, pointRadius: 2.5, pointStyle: "rectRot", borderColor: "#b2552b", backgroundColor: "#b2552b" },
        { label: "Anxiety, 7-day average", data: pts("anxiety_avg"), pointRadius: 0, borderWidth: 2, borderDash: [6, 4], borderColor: "#b2552b" },
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
          label: q.name + " total", data: points, borderColor: "#1f2933", backgroundColor: "#1f2933",
          pointRadius: q.points.map(function (p) { return p.baseline ? 7 : 4; }),
          pointStyle: q.points.map(function (p) { return p.baseline ? "star" : (p.remission ? "rectRounded" : (p.response ? "triangle" : "circle")); })
        },
        sessionDataset(q.max)
      ] },
      options: opts,
      plugins: [bandsPlugin, sessionsPlugin]
    });
  });
})();
