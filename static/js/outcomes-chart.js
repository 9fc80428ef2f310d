// Outcomes page: cumulative share with a first response and mean change from baseline, by
// week since the first held session, one line per questionnaire. Data comes from the page
// (json_script "outcomes-data"); the tables on the page carry the same numbers. Printed,
// the charts leave out the points resting on fewer than 5 patients, as the report does.
(function () {
  "use strict";
  var source = document.getElementById("outcomes-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var colours = ["#2f5d8a", "#b2552b"];
  var dashes = [[], [6, 4]];
  var charts = [];

  function chart(id, key, countKey, countLabel, yOptions, stepped) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    var made = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.weeks,
        datasets: data.series.map(function (s, i) {
          return {
            label: s.name, data: s[key].slice(), counts: s[countKey], stepped: stepped,
            spanGaps: !stepped, borderColor: colours[i % colours.length],
            backgroundColor: colours[i % colours.length], borderDash: dashes[i % dashes.length],
            borderWidth: 2, pointRadius: 2.5
          };
        })
      },
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
    });
    charts.push({ chart: made, key: key });
  }

  chart("response-chart", "cumulative", "at_risk", "at risk", { min: 0, max: 100, title: { display: true, text: "%" } }, true);
  chart("change-chart", "mean", "patients", "patients", { title: { display: true, text: "points" } }, false);

  function show(printed) {
    charts.forEach(function (c) {
      c.chart.data.datasets.forEach(function (dataset, i) {
        dataset.data = data.series[i][printed ? c.key + "_shared" : c.key].slice();
      });
      c.chart.update("none");
    });
  }
  window.addEventListener("beforeprint", function () { show(true); });
  window.addEventListener("afterprint", function () { show(false); });
})();
