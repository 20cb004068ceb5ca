// Cost vs expected reimbursement on the session-economics report (Chart.js,
// vendored). Data comes from a json_script block: no inline script (CSP).
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("economics-chart");
  const source = document.getElementById("economics-data");
  if (!canvas || !source || !window.Chart) return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: "Cost (supplies + time)", data: data.cost.map(Number), backgroundColor: "#dc3545" },
        { label: "Expected reimbursement", data: data.reimbursement.map(Number), backgroundColor: "#198754" },
      ],
    },
    options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true } } },
  });
});
