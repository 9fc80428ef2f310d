// Progress of the signed-in person's unfinished exports (section[data-exports-status]): asks
// the status URL every 2 seconds, moves each progress bar, and reloads the page when an
// export has finished (ready or failed). Without JavaScript the page refreshes itself.
document.addEventListener("DOMContentLoaded", () => {
  const section = document.querySelector("[data-exports-status]");
  if (!section) return;
  const url = section.dataset.exportsStatus;
  const tick = async () => {
    let data;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      data = await response.json();
    } catch {
      setTimeout(tick, 5000);
      return;
    }
    const pending = new Map(data.exports.map((job) => [job.id, job]));
    for (const row of section.querySelectorAll("tr[data-export-id]")) {
      const status = row.dataset.exportStatus;
      if (status !== "queued" && status !== "running") continue;
      const job = pending.get(row.dataset.exportId);
      if (!job) {
        window.location.reload();
        return;
      }
      const bar = row.querySelector("progress");
      const text = row.querySelector("[data-export-text]");
      const rows = row.querySelector("[data-export-rows]");
      if (job.percent !== null) bar.value = job.percent;
      text.textContent = job.status === "queued" ? "Waiting for a worker" : `${job.percent ?? 0}% written`;
      if (job.rows_total !== null) rows.textContent = `${job.rows_done} of ${job.rows_total}`;
    }
    setTimeout(tick, 2000);
  };
  setTimeout(tick, 1000);
});
