// Plan form: show only the fields of the chosen modality and the medications
// that fit it. Without JavaScript every field stays visible (each label says
// which modality it belongs to) and the server ignores the others.
(function () {
  "use strict";
  const form = document.getElementById("plan-form");
  if (!form) return;
  const modality = form.querySelector("[name=modality]");
  const medication = form.querySelector("select[name=medication]");
  const sessionMinutes = form.querySelector("[name=session_minutes]");
  const minInterval = form.querySelector("[name=min_interval_hours]");
  const defaults = (name) => {
    try { return JSON.parse(modality.dataset[name] || "{}"); } catch (e) { return {}; }
  };
  const sessionDefaults = defaults("sessionMinutes");
  const intervalDefaults = defaults("minIntervalHours");

  function serves(element, value) {
    return (element.dataset.modalities || "").split(" ").includes(value);
  }

  function update() {
    const value = modality.value;
    form.querySelectorAll(".js-hide").forEach((el) => el.classList.add("d-none"));
    form.querySelectorAll(".modality-field").forEach((el) => {
      el.classList.toggle("d-none", Boolean(value) && !serves(el, value));
    });
    if (medication) {
      medication.querySelectorAll("option[data-modalities]").forEach((option) => {
        const fits = !value || serves(option, value);
        option.hidden = !fits;
        option.disabled = !fits;
        if (!fits && option.selected) medication.value = "";
      });
    }
    if (sessionMinutes) sessionMinutes.placeholder = value && sessionDefaults[value] ? `${sessionDefaults[value]} (default)` : "";
    if (minInterval) minInterval.placeholder = value && intervalDefaults[value] ? `${intervalDefaults[value]} (default)` : "";
  }

  modality.addEventListener("change", update);
  update();
})();
