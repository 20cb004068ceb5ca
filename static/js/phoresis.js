// Phoresis: our small JavaScript (no inline scripts: the CSP forbids them).
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector("[name=csrfmiddlewaretoken]");
  if (token) event.detail.headers["X-CSRFToken"] = token.value;
});

document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});

// Long actions (series booking): show the form's spinner and stop double submits.
document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-busy]");
  if (!form) return;
  form.classList.add("htmx-request");
  setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => (b.disabled = true)), 0);
});

// Idle logout: the server ends a session after IDLE_TIMEOUT_MINUTES without a
// request; warn a few minutes before, and reload when the time is up so the
// screen does not keep showing patient data (the server then asks to log in).
(() => {
  const body = document.body;
  const timeout = Number(body.dataset.idleTimeout || 0);
  const banner = document.getElementById("idle-warning");
  if (!timeout || !banner) return;
  const warnBefore = Math.min(Number(body.dataset.idleWarning || 300), timeout);
  let warnTimer;
  let endTimer;
  const schedule = () => {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    banner.classList.add("d-none");
    warnTimer = setTimeout(() => banner.classList.remove("d-none"), (timeout - warnBefore) * 1000);
    endTimer = setTimeout(() => window.location.reload(), (timeout + 5) * 1000);
  };
  banner.querySelector("[data-keepalive]").addEventListener("click", () => {
    const token = document.querySelector("[name=csrfmiddlewaretoken]");
    fetch(body.dataset.keepaliveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: token ? { "X-CSRFToken": token.value } : {},
    }).then((response) => (response.status === 204 ? schedule() : window.location.reload()));
  });
  document.addEventListener("htmx:afterRequest", schedule);
  schedule();
})();
