// The scheduling calendar (FullCalendar, vendored). Dragging a visit calls
// the same reschedule service as the form; a refusal puts it back.
document.addEventListener("DOMContentLoaded", () => {
  const element = document.getElementById("calendar");
  if (!element || !window.FullCalendar) return;
  const errorBox = document.getElementById("calendar-error");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const showError = (text) => {
    errorBox.textContent = text;
    errorBox.classList.remove("d-none");
  };
  const calendar = new FullCalendar.Calendar(element, {
    initialView: window.innerWidth < 768 ? "timeGridDay" : "timeGridWeek",
    initialDate: element.dataset.initialDate || undefined,
    headerToolbar: { left: "prev,next today", center: "title", right: "timeGridWeek,timeGridDay,listWeek" },
    // Words, not icons: FullCalendar's icon spans are role="img" without a name.
    buttonIcons: false,
    buttonText: { prev: "‹ Previous", next: "Next ›", today: "Today", week: "Week", day: "Day", list: "List" },
    timeZone: element.dataset.timeZone,
    // The clinic's format: day before month, 24-hour clock ("Mon 7 Dec", "09:00").
    locale: "en-gb",
    dayHeaderFormat: { weekday: "short", day: "numeric", month: "short" },
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    slotMinTime: "07:00:00",
    slotMaxTime: "20:00:00",
    allDaySlot: false,
    nowIndicator: true,
    firstDay: 1,
    // The clinic's 24-hour clock, as on the day sheet.
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    height: "auto",
    events: element.dataset.eventsUrl,
    eventStartEditable: true,
    eventDurationEditable: false,
    eventDidMount: (info) => {
      const p = info.event.extendedProps;
      info.el.title = `${info.event.title}\n${p.therapist} · ${p.room} · session ${p.session} · ${p.status}`;
    },
    eventDrop: async (info) => {
      errorBox.classList.add("d-none");
      const url = element.dataset.moveUrl.replace("/0/", `/${info.event.id}/`);
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
          body: JSON.stringify({ start: info.event.start.toISOString() }),
        });
        const body = await response.json();
        if (!response.ok) {
          info.revert();
          showError(body.detail || "The visit could not be moved.");
        }
      } catch (err) {
        info.revert();
        showError("The visit could not be moved: the server did not answer.");
      }
    },
  });
  calendar.render();
});
