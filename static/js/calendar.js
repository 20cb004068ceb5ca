// The scheduling calendar (FullCalendar, vendored; MIT). Two views:
// - the week, with every visit coloured by its therapist;
// - the day by therapist: one column per therapist (FullCalendar's resource
//   views are premium, so each column is its own day grid, side by side),
//   non-working time and closures shaded.
// A click or drag over empty time opens the new-visit page prefilled with
// the therapist and time. Dragging a visit asks first, then shows the result
// with an Undo for a minute; both go through the same reschedule service as
// the form, and a refusal puts the visit back with the reason.
document.addEventListener("DOMContentLoaded", () => {
  const element = document.getElementById("calendar");
  if (!element || !window.FullCalendar) return;
  const data = element.dataset;
  const notice = document.getElementById("calendar-notice");
  const csrf = document.querySelector("[name=csrfmiddlewaretoken]").value;
  const dateInput = document.getElementById("cal-date");
  const viewInput = document.getElementById("cal-view");
  const UNDO_MS = 60 * 1000;
  let undoTimer = null;

  const show = (kind, text, undo) => {
    notice.className = `alert alert-${kind} d-flex flex-wrap align-items-center gap-2`;
    notice.replaceChildren(document.createTextNode(text));
    if (undo) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-dark ms-auto";
      button.textContent = "Undo";
      button.addEventListener("click", undo, { once: true });
      notice.appendChild(button);
    }
  };
  const hide = () => notice.classList.add("d-none");

  const fmt = (date) =>
    new Intl.DateTimeFormat("en-GB", {
      timeZone: data.timeZone, weekday: "short", day: "numeric", month: "short",
      hour: "2-digit", minute: "2-digit", hour12: false,
    }).format(date);

  const move = async (id, start) => {
    const url = data.moveUrl.replace("/0/", `/${id}/`);
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ start: start.toISOString() }),
    });
    let body = {};
    try { body = await response.json(); } catch (err) { body = {}; }
    return { ok: response.ok, detail: body.detail || "" };
  };

  const calendars = [];
  const refetch = () => calendars.forEach((c) => c.refetchEvents());

  const onDrop = async (info) => {
    hide();
    const name = info.event.title.replace(/^\S+\s/, "").replace(/ ⚠$/, "");
    const from = info.oldEvent.start;
    const to = info.event.start;
    if (!window.confirm(`Move ${name} from ${fmt(from)} to ${fmt(to)}? The patient is told by email.`)) {
      info.revert();
      return;
    }
    try {
      const result = await move(info.event.id, to);
      if (!result.ok) {
        info.revert();
        show("danger", result.detail || "The visit could not be moved.");
        return;
      }
    } catch (err) {
      info.revert();
      show("danger", "The visit could not be moved: the server did not answer.");
      return;
    }
    refetch();
    clearTimeout(undoTimer);
    show("success", `Moved ${name} to ${fmt(to)}.`, async () => {
      clearTimeout(undoTimer);
      const back = await move(info.event.id, from);
      refetch();
      if (back.ok) show("info", `Moved back to ${fmt(from)}.`);
      else show("danger", back.detail || "The visit could not be moved back.");
    });
    undoTimer = setTimeout(() => {
      const button = notice.querySelector("button");
      if (button) button.remove();
    }, UNDO_MS);
  };

  const openNew = (start, therapistId) => {
    const params = new URLSearchParams({ start: start.toISOString() });
    if (therapistId) params.set("therapist", therapistId);
    window.location.assign(`${data.newUrl}?${params}`);
  };

  const common = {
    timeZone: data.timeZone,
    locale: "en-gb",
    buttonIcons: false,
    buttonText: { prev: "‹ Previous", next: "Next ›", today: "Today", week: "Week", day: "Day", list: "List" },
    dayHeaderFormat: { weekday: "short", day: "numeric", month: "short" },
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    slotMinTime: "07:00:00",
    slotMaxTime: "20:00:00",
    allDaySlot: false,
    nowIndicator: true,
    firstDay: 1,
    height: "auto",
    eventStartEditable: true,
    eventDurationEditable: false,
    selectable: true,
    selectMirror: true,
    eventDidMount: (info) => {
      const p = info.event.extendedProps;
      if (info.event.display === "background") {
        info.el.title = info.event.title;
        return;
      }
      const warnings = (p.warnings || []).join("; ");
      const who = `${p.therapist} · ${p.room} · ${p.session} · ${p.statusLabel}`;
      info.el.title = `${info.event.title}\n${who}` + (warnings ? `\n${warnings}` : "");
      // The details a screen reader adds to what is on screen: a visually
      // hidden text after the event's own, not an aria-label. A label copied
      // the visible time once, at mount; FullCalendar re-renders the time in
      // place when an event is dragged, and the label then named the old time
      // (axe: label-content-name-mismatch, seen intermittently after a move).
      const details = who + (warnings ? ` · ${warnings}` : "");
      let extra = info.el.querySelector(".ev-details");
      if (!extra) {
        extra = document.createElement("span");
        extra.className = "visually-hidden ev-details";
        info.el.appendChild(extra);
      }
      extra.textContent = ` · ${details}`;
    },
    eventDrop: onDrop,
  };

  const initial = data.initialDate || undefined;
  const narrow = window.innerWidth < 1200; // tablets and phones open the day view
  const view = data.view || (narrow ? "day" : "week");
  if (viewInput) viewInput.value = view;
  const keepDate = (date) => {
    if (dateInput) dateInput.value = date.toISOString().slice(0, 10);
  };

  if (view !== "day") {
    const calendar = new FullCalendar.Calendar(element, {
      ...common,
      initialView: "timeGridWeek",
      initialDate: initial,
      headerToolbar: { left: "prev,next today", center: "title", right: "dayByTherapist,timeGridWeek,listWeek" },
      customButtons: {
        dayByTherapist: {
          text: "Day by therapist",
          click: () => {
            viewInput.value = "day";
            keepDate(calendar.getDate());
            viewInput.form.submit();
          },
        },
      },
      events: data.eventsUrl + (data.therapist ? "&background=1" : ""),
      select: (info) => openNew(info.start, data.therapist),
      datesSet: () => keepDate(calendar.getDate()),
    });
    calendar.render();
    calendars.push(calendar);
    return;
  }

  // The day by therapist: a shared toolbar, then one column per therapist.
  element.classList.add("resource-day");
  const toolbar = document.createElement("div");
  toolbar.className = "d-flex flex-wrap align-items-center gap-2 mb-2";
  const title = document.createElement("h2");
  title.className = "h5 mb-0 me-auto";
  title.id = "calendar-day-title";
  const button = (text, onClick) => {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-sm btn-outline-secondary";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  };
  const columns = document.createElement("div");
  columns.className = "resource-columns";
  const goto = (fn) => {
    calendars.forEach(fn);
    const day = calendars[0].getDate();
    title.textContent = new Intl.DateTimeFormat("en-GB", {
      timeZone: data.timeZone, weekday: "long", day: "numeric", month: "long", year: "numeric",
    }).format(day);
    keepDate(day);
  };
  toolbar.append(
    title,
    button("‹ Previous", () => goto((c) => c.prev())),
    button("Today", () => goto((c) => c.today())),
    button("Next ›", () => goto((c) => c.next())),
    button("Week", () => { viewInput.value = "week"; viewInput.form.submit(); }),
  );
  element.append(toolbar, columns);

  fetch(data.resourcesUrl, { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((resources) => {
      if (!resources.length) {
        columns.textContent = "No active therapist: a clinic admin adds therapists under resources.";
        return;
      }
      resources.forEach((resource, index) => {
        const column = document.createElement("section");
        column.className = "resource-column";
        column.setAttribute("aria-label", resource.title);
        const heading = document.createElement("h3");
        heading.className = "resource-title h6";
        heading.textContent = resource.title;
        heading.classList.add(`therapist-swatch-${resource.colourIndex ?? index % 10}`);
        const grid = document.createElement("div");
        column.append(heading, grid);
        columns.append(column);
        const sep = data.eventsUrl.includes("?") ? "&" : "?";
        const calendar = new FullCalendar.Calendar(grid, {
          ...common,
          initialView: "timeGridDay",
          initialDate: initial,
          headerToolbar: false,
          dayHeaders: false,
          events: `${data.eventsUrl}${sep}therapist=${resource.id}&background=1`,
          select: (info) => openNew(info.start, resource.id),
        });
        calendar.render();
        calendars.push(calendar);
      });
      goto(() => {});
    })
    .catch(() => show("danger", "The therapists could not be loaded: reload the page."));
});
