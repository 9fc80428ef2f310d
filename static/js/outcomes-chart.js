// Outcomes page: cumulative share with a first response and mean change from baseline, by
// week since the first held session, one line per questionnaire. Data comes from the page
// (json_script "outcomes-data"); the tables on the page carry the same numbers. Means of
// fewer than 5 patients are loose, hollow points, not part of the line. Printed, the charts
// leave out whatever rests on fewer than 5 patients, as the printed report does.
(function () {
  "use strict";
  var source = document.getElementById("outcomes-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#2f5d8a", "#b2552b"];
  var dashes = [[], [6, 4]];
  var charts = [];

  function line(s, i, key, counts, stepped) {
    return {
      label: s.name, data: s[key].slice(), source: key, seriesIndex: i, counts: counts, stepped: stepped,
      spanGaps: !stepped, borderColor: colours[i], backgroundColor: colours[i],
      borderDash: dashes[i], borderWidth: 2, pointRadius: 2.5
    };
  }

  function loose(s, i, key, counts) {
    return {
      label: s.name + ", fewer than 5 patients", data: s[key].slice(), source: key, seriesIndex: i,
      counts: counts, showLine: false, borderColor: colours[i], backgroundColor: "#fff",
      borderWidth: 1.5, pointRadius: 3.5, hiddenInPrint: true
    };
  }

  function chart(id, datasets, countLabel, yOptions) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    charts.push(new Chart(canvas, {
      type: "line",
      data: { labels: data.weeks, datasets: datasets },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: { title: { display: true, text: "Week since the first held session" } }, y: yOptions },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: {
            title: function (items) { return "Week " + items[0].label; },
            label: function (item) {
              return item.dataset.label + ": " + item.formattedValue + " (" + countLabel + " " + item.dataset.counts[item.dataIndex] + ")";
            }
          } }
        }
      }
    }));
  }

  var responses = [], changes = [];
  data.series.forEach(function (s, i) {
    responses.push(line(s, i, "cumulative", s.at_risk, true));
    changes.push(line(s, i, "mean", s.patients, false));
    if (s.mean_small.some(function (v) { return v !== null; })) {
      changes.push(loose(s, i, "mean_small", s.patients));
    }
  });
  chart("response-chart", responses, "at risk", { min: 0, max: 100, title: { display: true, text: "%" } });
  chart("change-chart", changes, "patients", { title: { display: true, text: "points" } });

  function show(printed) {
    charts.forEach(function (made) {
      made.data.datasets.forEach(function (dataset) {
        var series = data.series[dataset.seriesIndex];
        var key = dataset.source;
        if (printed && key === "cumulative") { key = "cumulative_shared"; }
        dataset.data = printed && dataset.hiddenInPrint ? series[key].map(function () { return null; }) : series[key].slice();
      });
      made.update("none");
    });
  }
  window.addEventListener("beforeprint", function () { show(true); });
  window.addEventListener("afterprint", function () { show(false); });
})();
