// HDSS at the clinic and at home on the plan progress page (Chart.js,
// vendored). Data comes from a json_script block: no inline script (CSP).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("hdss-chart");
  const source = document.getElementById("hdss-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  const line = (label, values, color, dash) => ({
    label, data: values, borderColor: color, backgroundColor: color, spanGaps: true, tension: 0.2,
    borderDash: dash, pointRadius: 4,
  });
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [
        line("Clinic", data.clinic, "#198754", []),
        line("Home", data.home, "#0d6efd", [4, 4]),
        line("Intake", data.intake, "#6c757d", [1, 3]),
      ],
    },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { min: 1, max: 4, ticks: { stepSize: 1 }, title: { display: true, text: "HDSS (1–4)" } } } },
  });
});
