// Pain trend on the plan progress page (Chart.js, vendored). Data comes from
// a json_script block: no inline script (CSP).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("pain-chart");
  const source = document.getElementById("pain-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Pain before", data: data.before, borderColor: "#dc3545", tension: 0.2 },
        { label: "Pain after", data: data.after, borderColor: "#0d6efd", tension: 0.2 },
        ...(data.hdss && data.hdss.length
          ? [{ label: "HDSS (1–4)", data: data.hdss, borderColor: "#198754", tension: 0.2, borderDash: [4, 4] }]
          : []),
      ],
    },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { min: 0, max: 10, title: { display: true, text: "Pain (0–10)" } } } },
  });
});
