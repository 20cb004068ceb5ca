// Reads a JSON list of iCalendar texts on stdin; prints, for each, the UTC
// instants (epoch seconds) of its first VEVENT's DTSTART and DTEND as Mozilla's
// ical.js resolves them with the calendar's own VTIMEZONE, plus METHOD and
// whether any ATTENDEE is present. One process for the whole batch.
"use strict";
const ICAL = require("./ical.js-2.2.1/ical.es5.cjs");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((text) => {
    ICAL.TimezoneService.reset();
    const calendar = new ICAL.Component(ICAL.parse(text));
    for (const vtz of calendar.getAllSubcomponents("vtimezone")) {
      ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
    }
    const vevent = calendar.getFirstSubcomponent("vevent");
    const event = new ICAL.Event(vevent);
    return {
      start: event.startDate.toUnixTime(),
      end: event.endDate.toUnixTime(),
      tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
      method: calendar.getFirstPropertyValue("method"),
      attendees: vevent.getAllProperties("attendee").length,
      uid: event.uid,
      sequence: event.sequence,
      status: vevent.getFirstPropertyValue("status"),
      summary: event.summary,
      location: event.location,
      description: event.description,
    };
  });
  process.stdout.write(JSON.stringify(out));
});
