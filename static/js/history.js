// Draws the patient's history charts from the JSON embedded by the page (json_script).
// The tables on the page carry the same data for screen readers and without JavaScript.
(function () {
  "use strict";
  var source = document.getElementById("history-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var moodColour = "#2f5d8a", anxietyColour = "#b2552b";

  var moodCanvas = document.getElementById("mood-chart");
  if (moodCanvas && data.checkins.length) {
    var days = data.checkins.map(function (p) { return p.day; });
    new Chart(moodCanvas, {
      type: "line",
      data: {
        labels: days,
        datasets: [
          { label: "Mood", data: data.checkins.map(function (p) { return p.mood; }), showLine: false, pointRadius: 3, borderColor: moodColour, backgroundColor: moodColour },
          { label: "Mood, 7-day average", data: data.checkins.map(function (p) { return p.moodAvg; }), pointRadius: 0, borderWidth: 2, borderColor: moodColour, tension: 0.3 },
          { label: "Anxiety", data: data.checkins.map(function (p) { return p.anxiety; }), showLine: false, pointRadius: 3, pointStyle: "rectRot", borderColor: anxietyColour, backgroundColor: anxietyColour },
          { label: "Anxiety, 7-day average", data: data.checkins.map(function (p) { return p.anxietyAvg; }), pointRadius: 0, borderWidth: 2, borderDash: [6, 4], borderColor: anxietyColour, tension: 0.3 }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: 10, ticks: { stepSize: 2 } }, x: { ticks: { maxTicksLimit: 6 } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }

  var qCanvas = document.getElementById("questionnaire-chart");
  if (qCanvas && data.assessments.length) {
    var colours = { "PHQ-9": moodColour, "GAD-7": anxietyColour, "PCL-5": "#5b4b8a" };
    var names = [];
    data.assessments.forEach(function (a) { if (names.indexOf(a.instrument) < 0) { names.push(a.instrument); } });
    var allDays = [];
    data.assessments.forEach(function (a) { if (allDays.indexOf(a.day) < 0) { allDays.push(a.day); } });
    new Chart(qCanvas, {
      type: "line",
      data: {
        labels: allDays,
        datasets: names.map(function (name) {
          return {
            label: name,
            spanGaps: true,
            borderColor: colours[name],
            backgroundColor: colours[name],
            data: allDays.map(function (day) {
              var match = data.assessments.filter(function (a) { return a.instrument === name && a.day === day; });
              return match.length ? match[match.length - 1].total : null;
            })
          };
        })
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: data.questionnaireMax }, x: { ticks: { maxTicksLimit: 6 } } },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }
      }
    });
  }
})();
