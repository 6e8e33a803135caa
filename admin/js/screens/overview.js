// The overview: cases per status and category now, events accepted and dead-lettered per hour,
// and pending dead letters per problem code with a one-click replay after a fix. Counts only
// (the /admin/v1/stats endpoints need rules:read); the replay itself needs deadletters:manage.

import { DEAD_LETTER_REASONS, api, describe } from "../api.js";
import { can, refreshActive, state, timeZone } from "../context.js";
import { busy, h, message, replace, scroller } from "../dom.js";
import { hourChart } from "../pictures/hours.js";
import { replayEach } from "../replay.js";
import { dataLanguage, formatInstant, mapCode } from "../rules.js";

const WINDOWS = [
  [24, "the last 24 hours"],
  [72, "the last 3 days"],
  [168, "the last 7 days"],
  [720, "the last 30 days"],
];

let root = null;
let ui = {};
let hours = 72;

/** Forgets everything (sign-out). */
export function reset() {
  root = null;
  ui = {};
  hours = 72;
}

/** Builds the screen once, then loads the numbers each time it opens. */
export async function show(container) {
  if (root !== container || !ui.cases?.isConnected) build(container);
  await load();
}

function build(container) {
  root = container;
  ui = {};
  ui.asOf = h("p", { class: "help", "data-testid": "overview-as-of", "aria-live": "polite" });
  ui.refresh = h("button", { type: "button", class: "button secondary", id: "overview-refresh", "data-testid": "overview-refresh", onclick: (event) => busy(event.currentTarget, load, "Refreshing…") }, "Refresh");
  ui.cases = h("div", { id: "overview-cases" });
  ui.window = h(
    "select",
    { id: "overview-window", "data-testid": "overview-window" },
    WINDOWS.map(([value, text]) => h("option", { value: String(value), selected: value === hours }, text)),
  );
  ui.window.addEventListener("change", () => {
    hours = Number(ui.window.value);
    loadIngest();
  });
  ui.ingest = h("div", { id: "overview-ingest" });
  ui.deadLetters = h("div", { id: "overview-deadletters" });
  ui.progress = h("div", { id: "overview-progress" });
  ui.replayResult = h("div", { id: "overview-replay-result", "data-testid": "overview-replay-result", "aria-live": "polite" });
  replace(
    container,
    h("div", { class: "row controls" }, h("div", { class: "field field-button" }, ui.refresh), ui.asOf),
    h("section", { class: "panel", "aria-labelledby": "overview-cases-title" }, h("h2", { id: "overview-cases-title" }, "Cases now"), ui.cases),
    h(
      "section",
      { class: "panel", "aria-labelledby": "overview-ingest-title" },
      h("h2", { id: "overview-ingest-title" }, "Events per hour"),
      h("div", { class: "field" }, h("label", { for: "overview-window" }, "Period"), ui.window),
      ui.ingest,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "overview-dl-title" },
      h("h2", { id: "overview-dl-title" }, "Pending dead letters"),
      ui.progress,
      ui.replayResult,
      ui.deadLetters,
    ),
  );
}

async function load() {
  try {
    await refreshActive();
  } catch {
    /* the counts below still show; the "now mapped" hints need the rules */
  }
  await Promise.all([loadCases(), loadIngest(), loadDeadLetters()]);
  replace(ui.asOf, `As of ${formatInstant(new Date().toISOString(), timeZone())} (${timeZone() || "UTC"}).`);
}

async function loadCases() {
  let counts;
  try {
    counts = await api("GET", "/admin/v1/stats/cases");
  } catch (error) {
    replace(ui.cases, message("error", describe(error)));
    return;
  }
  const lang = dataLanguage(state.active?.document);
  const most = Math.max(1, ...counts.byStatus.map((row) => row.cases), ...counts.byCategory.map((row) => row.cases));
  replace(
    ui.cases,
    h("p", { class: "big-number" }, h("span", { "data-testid": "cases-total" }, String(counts.total)), ` live case${counts.total === 1 ? "" : "s"} (rules version ${counts.rulesVersion})`),
    h(
      "div",
      { class: "two-columns" },
      barTable("Cases per portal status", "cases-by-status", ["Status", "Category"], counts.byStatus.map((row) => ({ key: row.status, cells: [row.status, row.category], cases: row.cases })), most, lang),
      barTable("Cases per national category", "cases-by-category", ["Category"], counts.byCategory.map((row) => ({ key: row.category, cells: [row.category], cases: row.cases })), most, lang),
    ),
  );
}

/** A table whose last column draws each count as a bar (the number is always written too). */
function barTable(caption, testid, headings, rows, most, lang) {
  return scroller(
    caption,
    h(
      "table",
      { class: "data bars stack", "data-testid": testid, lang },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headings.map((text) => h("th", { scope: "col" }, text)), h("th", { scope: "col" }, "Cases"))),
      h(
        "tbody",
        {},
        rows.map((row) => {
          const bar = h("span", { class: "bar", "aria-hidden": "true" });
          bar.style.width = `${(100 * row.cases) / most}%`;
          return h(
            "tr",
            { dataset: { key: row.key, cases: String(row.cases) }, class: row.cases ? null : "zero" },
            h("th", { scope: "row", "data-label": headings[0] }, row.cells[0]),
            row.cells.slice(1).map((cell, index) => h("td", { "data-label": headings[index + 1] }, cell)),
            h("td", { class: "bar-cell", "data-label": "Cases" }, h("div", { class: "bar-line" }, h("span", { class: "bar-track" }, bar), h("span", { class: "count" }, String(row.cases)))),
          );
        }),
      ),
    ),
  );
}

async function loadIngest() {
  let history;
  try {
    history = await api("GET", `/admin/v1/stats/ingest?hours=${hours}`);
  } catch (error) {
    replace(ui.ingest, message("error", describe(error)));
    return;
  }
  const period = WINDOWS.find(([value]) => value === hours)?.[1] || `the last ${hours} hours`;
  replace(
    ui.ingest,
    h(
      "p",
      { "data-testid": "ingest-summary" },
      `In ${period}: `,
      h("strong", { "data-testid": "ingest-accepted" }, String(history.accepted)),
      ` event${history.accepted === 1 ? "" : "s"} accepted, `,
      h("strong", { "data-testid": "ingest-dead-lettered" }, String(history.deadLettered)),
      ` dead-lettered.`,
    ),
    hourChart(history, { timeZone: timeZone() }),
  );
}

async function loadDeadLetters() {
  let tally;
  try {
    tally = await api("GET", "/admin/v1/stats/deadletters");
  } catch (error) {
    replace(ui.deadLetters, message("error", describe(error)));
    return;
  }
  if (!tally.pending) {
    replace(ui.deadLetters, h("p", { class: "empty", "data-testid": "overview-dl-empty" }, "No dead letters are waiting: every message was accepted or has been replayed."));
    return;
  }
  const document = state.active?.document;
  replace(
    ui.deadLetters,
    h("p", { "data-testid": "overview-dl-total" }, `${tally.pending} message${tally.pending === 1 ? " is" : "s are"} waiting for a replay.`, can("deadletters:manage") ? null : " Your key may not replay them."),
    tally.byCode.map((entry) => codeGroup(entry, document)),
  );
}

function codeGroup(entry, document) {
  const reason = DEAD_LETTER_REASONS[entry.code] || entry.code;
  const replay = can("deadletters:manage")
    ? h(
        "button",
        { type: "button", class: "button primary", "data-testid": "overview-replay", dataset: { code: entry.code }, onclick: () => replayCode(entry) },
        `Replay ${entry.count}`,
        h("span", { class: "sr-only" }, ` messages refused for: ${reason}`),
      )
    : null;
  return h(
    "div",
    { class: "dl-code", "data-testid": "overview-dl-code", dataset: { code: entry.code, count: String(entry.count) } },
    h(
      "div",
      { class: "dl-code-head" },
      h("h3", {}, `${reason} `, h("code", {}, entry.code), `: ${entry.count}`),
      replay,
    ),
    h("p", { class: "help" }, `Oldest ${formatInstant(entry.oldest, timeZone())}, newest ${formatInstant(entry.newest, timeZone())}.`),
    h(
      "ul",
      { class: "plain subjects", lang: dataLanguage(document) },
      entry.subjects.map((subject) => h("li", { dataset: { source: subject.sourceSystem ?? "", raw: subject.rawStatus ?? "", count: String(subject.count) } }, subjectText(entry.code, subject, document))),
    ),
  );
}

/** "BYGGR ÄNDRAD (2): the active rules map it to “Under behandling” now, a replay should succeed". */
function subjectText(code, subject, document) {
  const name = [subject.sourceSystem, subject.rawStatus].filter(Boolean).join(" ") || "a message without source or code";
  const parts = [h("code", {}, name), ` (${subject.count})`];
  if (document && subject.sourceSystem && subject.rawStatus && (code === "UNMAPPED_STATUS" || code === "UNKNOWN_SOURCE_SYSTEM")) {
    const mapped = mapCode(document, subject.sourceSystem, subject.rawStatus);
    if (mapped) parts.push(h("span", { class: "fixed", dataset: { fixed: "true" } }, `: the active rules map it to “${mapped.status}” now, a replay should succeed`));
    else if (!document.sources?.[subject.sourceSystem]) parts.push(`: still no source system ${subject.sourceSystem} in the active rules`);
    else parts.push(": still no mapping in the active rules (add it in the draft and publish first)");
  }
  return parts;
}

/** Replays the pending dead letters of one problem code, one request each, with a bar that fills. */
async function replayCode(entry) {
  let letters;
  try {
    letters = (await api("GET", "/api/v1/deadletters?state=pending")).filter((letter) => letter.code === entry.code);
  } catch (error) {
    replace(ui.replayResult, message("error", describe(error)));
    return;
  }
  const controls = [ui.refresh, ...root.querySelectorAll("[data-testid=overview-replay]")];
  try {
    const outcome = await replayEach(letters, { host: ui.progress, controls, label: `Replaying ${letters.length} message${letters.length === 1 ? "" : "s"} (${entry.code})`, testid: "overview-progress" });
    replace(ui.replayResult, message(outcome.rejected || outcome.failed || outcome.stopped ? "warning" : "success", h("p", { "data-testid": "overview-replay-summary" }, outcome.summary)));
  } catch (error) {
    replace(ui.replayResult, message("error", describe(error)));
  }
  await Promise.all([loadCases(), loadIngest(), loadDeadLetters()]);
  // The Replay button was redrawn with the list: keep the keyboard where the outcome is.
  if (!root.contains(document.activeElement)) ui.progress.querySelector(".progress")?.focus();
}
