// Events accepted and dead-lettered per hour as a column chart drawn as SVG by the page: one
// column per hour (accepted below, dead-lettered stacked on top), days marked in the tenant's
// time zone. The same numbers are in a table under it.

import { h, scroller } from "../dom.js";
import { px, s } from "./svg.js";

const WIDTH = 760;
const HEIGHT = 220;
const LEFT = 44;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 34;

/** A <figure> with the chart of `history` ({from, to, perHour: [{hour, accepted, deadLettered}]}). */
export function hourChart(history, { timeZone } = {}) {
  const hours = history.perHour || [];
  const plotWidth = WIDTH - LEFT - RIGHT;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const most = niceCeiling(Math.max(1, ...hours.map((hour) => hour.accepted + hour.deadLettered)));
  const step = plotWidth / Math.max(hours.length, 1);
  const barWidth = Math.max(step - (step > 4 ? 1 : 0), 0.6);
  const y = (value) => TOP + plotHeight - (value / most) * plotHeight;
  const local = (iso, options) => format(iso, timeZone, options);

  const grid = s("g", { class: "hours-grid", "aria-hidden": "true" });
  for (const value of most >= 2 && most % 2 === 0 ? [0, most / 2, most] : [0, most]) {
    grid.append(
      s("line", { x1: LEFT, x2: WIDTH - RIGHT, y1: px(y(value)), y2: px(y(value)) }),
      s("text", { x: LEFT - 6, y: px(y(value) + 4), "text-anchor": "end" }, formatCount(value)),
    );
  }
  // A tick at each local midnight, labelled with the day; more labels would crowd a long window.
  const ticks = s("g", { class: "hours-ticks", "aria-hidden": "true" });
  const labelEvery = Math.ceil(hours.length / 24 / 8);
  let day = 0;
  hours.forEach((hour, index) => {
    if (local(hour.hour, { hour: "2-digit", hourCycle: "h23" }) !== "00") return;
    const x = LEFT + index * step;
    ticks.append(s("line", { x1: px(x), x2: px(x), y1: TOP, y2: TOP + plotHeight + 4 }));
    if (day++ % labelEvery === 0) ticks.append(s("text", { x: px(x + 2), y: HEIGHT - BOTTOM + 18 }, local(hour.hour, { day: "numeric", month: "short" })));
  });

  const bars = s("g", { class: "hours-bars" });
  hours.forEach((hour, index) => {
    const x = LEFT + index * step;
    const column = s(
      "g",
      { class: "hour", dataset: { hour: hour.hour, accepted: String(hour.accepted), deadLettered: String(hour.deadLettered) } },
      s("title", {}, `${local(hour.hour, { dateStyle: "short", timeStyle: "short" })}: ${hour.accepted} accepted, ${hour.deadLettered} dead-lettered`),
    );
    if (hour.accepted) {
      column.append(s("rect", { class: "accepted", x: px(x), width: px(barWidth), y: px(y(hour.accepted)), height: px(plotHeight - (y(hour.accepted) - TOP)) }));
    }
    if (hour.deadLettered) {
      const top = y(hour.accepted + hour.deadLettered);
      column.append(s("rect", { class: "dead-lettered", x: px(x), width: px(barWidth), y: px(top), height: px(y(hour.accepted) - top) }));
    }
    bars.append(column);
  });

  const busy = hours.filter((hour) => hour.accepted || hour.deadLettered);
  const first = hours[0]?.hour;
  const summary = `${history.accepted} accepted and ${history.deadLettered} dead-lettered between ${first ? local(first, { dateStyle: "short", timeStyle: "short" }) : "—"} and now, in ${busy.length} of ${hours.length} hours; the busiest hour had ${Math.max(0, ...hours.map((hour) => hour.accepted + hour.deadLettered))}.`;
  return h(
    "figure",
    { class: "picture hours-figure" },
    s(
      "svg",
      { class: "hours-chart", role: "img", "aria-label": `Events per hour: ${summary}`, viewBox: `0 0 ${WIDTH} ${HEIGHT}`, "data-testid": "ingest-chart", preserveAspectRatio: "xMidYMid meet" },
      grid,
      ticks,
      bars,
      s("line", { class: "hours-axis", x1: LEFT, x2: WIDTH - RIGHT, y1: TOP + plotHeight, y2: TOP + plotHeight, "aria-hidden": "true" }),
    ),
    h(
      "figcaption",
      {},
      h("span", { class: "swatch accepted", "aria-hidden": "true" }),
      " accepted ",
      h("span", { class: "swatch dead-lettered", "aria-hidden": "true" }),
      " dead-lettered, per hour (",
      timeZone || "UTC",
      "). ",
      summary,
    ),
    h(
      "details",
      { class: "hours-table" },
      h("summary", {}, `The hours with events as a table (${busy.length})`),
      busy.length
        ? scroller(
            "Events per hour",
            h(
              "table",
              { class: "data", "data-testid": "ingest-table" },
              h("caption", { class: "sr-only" }, "Events accepted and dead-lettered per hour, newest first"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Hour"), h("th", { scope: "col" }, "Accepted"), h("th", { scope: "col" }, "Dead-lettered"))),
              h(
                "tbody",
                {},
                [...busy].reverse().map((hour) =>
                  h(
                    "tr",
                    { dataset: { hour: hour.hour } },
                    h("th", { scope: "row" }, local(hour.hour, { dateStyle: "short", timeStyle: "short" })),
                    h("td", { class: "number" }, String(hour.accepted)),
                    h("td", { class: "number" }, String(hour.deadLettered)),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "help" }, "No events in this period."),
    ),
  );
}

/** 1, 2, 5, 10, 20, 50, …: the axis ends on a round number at or above `value`. */
function niceCeiling(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= value) return factor * power;
  return 10 * power;
}

function formatCount(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function format(iso, timeZone, options) {
  try {
    return new Intl.DateTimeFormat("sv-SE", { ...options, timeZone: timeZone || undefined }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat("sv-SE", options).format(new Date(iso));
  }
}
