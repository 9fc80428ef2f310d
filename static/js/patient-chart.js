// Staff patient page: daily mood / anxiety and questionnaire totals on one time axis, with
// held treatment sessions and safety events (a self-harm answer) as markers and lines, and
// severity bands shaded and labelled (charts.js). Each meaning has its own marker shape,
// named in the legend (CareCharts.MARKERS). Data comes from the page (json_script); the
// tables on the page carry the same data without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("trends-data");
  if (!source || typeof Chart === "undefined" || !window.CareCharts) { return; }
  var data = JSON.parse(source.textContent);
  var C = CareCharts, M = C.MARKERS, dayLabel = C.dayLabel;
  var axis = C.dayAxis(data.since, data.until);
  // Every time is the patient's wall clock without an offset, so all points fall on the
  // patient's own days whatever the viewer's zone. Only held sessions are treatment.
  var held = data.sessions.filter(function (s) { return s.status === "completed"; });
  var safety = data.safety_events || [];
  var lines = held.map(function (s) {
    return { x: Date.parse(s.at_local), colour: "rgba(91,75,138,0.45)", dash: [3, 3] };
  }).concat(safety.map(function (e) {
    return { x: Date.parse(e.at_local), colour: "rgba(166,27,27,0.6)", dash: [] };
  }));

  // Sessions along the top of a chart, safety events along its bottom.
  function timeline(yMax) {
    var sets = [];
    if (held.length) {
      sets.push(C.markers("Treatment session", M.session, C.SESSION_COLOUR, held.map(function (s) {
        return { x: Date.parse(s.at_local), y: yMax, session: s };
      })));
    }
    if (safety.length) {
      sets.push(C.markers("Safety event (self-harm answer)", M.safety, C.SAFETY_COLOUR, safety.map(function (e) {
        return { x: Date.parse(e.at_local), y: 0, event: e };
      }), 8));
    }
    return sets;
  }

  function options(yMax) {
    return {
      maintainAspectRatio: false, animation: false, parsing: false,
      scales: {
        x: { type: "linear", min: axis.min, max: axis.max, ticks: { callback: dayLabel, maxTicksLimit: 8 } },
        y: { min: 0, max: yMax, ticks: { includeBounds: false } }
      },
      plugins: {
        legend: C.legend,
        timelineLines: { lines: lines },
        tooltip: { callbacks: {
          title: function (items) { return dayLabel(items[0].parsed.x); },
          label: function (item) {
            var raw = item.raw;
            if (raw.session) { return "Treatment session: " + raw.session.route + (raw.session.dose ? ", " + raw.session.dose : ""); }
            if (raw.event) { return "Safety event: " + raw.event.what; }
            return item.dataset.label + ": " + raw.y;
          }
        } }
      }
    };
  }

  var moodCanvas = document.getElementById("mood-chart");
  if (moodCanvas) {
    var pts = function (key) { return data.checkins.map(function (c) { return { x: Date.parse(c.day + "T12:00:00"), y: c[key] }; }); };
    new Chart(moodCanvas, {
      type: "line",
      data: { datasets: [
        { label: "Mood", data: pts("mood"), showLine: false, pointRadius: 2.5, pointStyle: M.mood, borderColor: "#2f5d8a", backgroundColor: "#2f5d8a" },
        { label: "Mood, 7-day average", data: pts("mood_avg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderColor: "#2f5d8a", backgroundColor: "#2f5d8a" },
        { label: "Anxiety", data: pts("anxiety"), showLine: false, pointRadius: 2.5, pointStyle: M.anxiety, borderColor: "#b2552b", backgroundColor: "#b2552b" },
        { label: "Anxiety, 7-day average", data: pts("anxiety_avg"), pointRadius: 0, pointStyle: "line", borderWidth: 2, borderDash: [6, 4], borderColor: "#b2552b", backgroundColor: "#b2552b" }
      ].concat(timeline(10)) },
      options: options(10),
      plugins: [C.linesPlugin]
    });
  }

  Object.keys(data.questionnaires).forEach(function (code) {
    var q = data.questionnaires[code];
    var canvas = document.getElementById("chart-" + code);
    if (!canvas) { return; }
    var point = function (p) { return { x: Date.parse(p.at_local), y: p.total }; };
    // Baseline, response and remission: markers of their own over the totals' line.
    var marked = [
      ["Baseline", M.baseline, function (p) { return p.baseline; }, 9],
      ["Response (50% or more below baseline)", M.response, function (p) { return p.response && !p.remission; }, 7],
      ["Remission", M.remission, function (p) { return p.remission; }, 7]
    ].map(function (m) {
      var pts = q.points.filter(m[2]).map(point);
      return pts.length ? C.markers(m[0], m[1], "#0b6e4f", pts, m[3]) : null;
    }).filter(Boolean);
    var opts = options(q.max);
    opts.plugins.bands = { bands: q.bands };
    new Chart(canvas, {
      type: "line",
      data: { datasets: [
        { label: q.name + " total", data: q.points.map(point), pointStyle: M.total, pointRadius: 4, borderColor: "#1f2933", backgroundColor: "#1f2933" }
      ].concat(marked, timeline(q.max)) },
      options: opts,
      plugins: [C.bandsPlugin, C.linesPlugin]
    });
  });
})();
