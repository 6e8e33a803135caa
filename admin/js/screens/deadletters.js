// Messages the rules refused, grouped by why; replay one or all after fixing the rules.

import { DEAD_LETTER_REASONS, api, describe } from "../api.js";
import { timeZone } from "../context.js";
import { busy, h, message, replace, scroller, sr } from "../dom.js";
import { replayEach } from "../replay.js";
import { formatInstant } from "../rules.js";

let root = null;
let ui = {};
let filter = "pending";

/** Forgets everything (sign-out). */
export function reset() {
  root = null;
  ui = {};
  filter = "pending";
}

/** Builds the screen once, then reloads the list each time it opens. */
export async function show(container) {
  if (root !== container || !ui.list?.isConnected) build(container);
  await reload();
}

function build(container) {
  root = container;
  const select = h(
    "select",
    { id: "dl-state", "data-testid": "dl-state" },
    h("option", { value: "pending", selected: filter === "pending" }, "Waiting for a replay (pending)"),
    h("option", { value: "replayed", selected: filter === "replayed" }, "Replayed"),
    h("option", { value: "all", selected: filter === "all" }, "All"),
  );
  select.addEventListener("change", () => {
    filter = select.value;
    reload();
  });
  ui.state = select;
  ui.refresh = h("button", { type: "button", class: "button secondary", id: "dl-refresh", "data-testid": "dl-refresh", onclick: (event) => busy(event.currentTarget, reload) }, "Refresh");
  ui.replayAll = h("button", { type: "button", class: "button primary", id: "dl-replay-all", "data-testid": "dl-replay-all", onclick: () => replayAll() }, "Replay all pending");
  ui.progress = h("div", { id: "dl-progress-host" });
  ui.results = h("div", { id: "dl-results", "data-testid": "dl-results", "aria-live": "polite" });
  ui.list = h("div", { id: "dl-list", "data-testid": "dl-list" });
  replace(
    container,
    h("p", { class: "help" }, "Messages the rules refused are parked here, nothing is lost. Fix the rules (for example add the missing mapping and publish), then replay them: each is processed again with the active rules."),
    h(
      "div",
      { class: "row controls" },
      h("div", { class: "field" }, h("label", { for: "dl-state" }, "Show"), select),
      h("div", { class: "field field-button" }, ui.refresh),
      h("div", { class: "field field-button" }, ui.replayAll),
    ),
    ui.progress,
    ui.results,
    ui.list,
  );
}

async function reload() {
  let letters;
  try {
    letters = await api("GET", `/api/v1/deadletters?state=${filter}`);
  } catch (error) {
    replace(ui.list, message("error", describe(error)));
    return;
  }
  const pending = letters.filter((letter) => letter.state === "pending").length;
  ui.replayAll.disabled = filter === "replayed" || pending === 0;
  if (!letters.length) {
    replace(ui.list, h("p", { class: "empty", "data-testid": "dl-empty" }, filter === "pending" ? "No dead letters are waiting. Every message was accepted." : "No dead letters."));
    return;
  }
  const groups = new Map();
  for (const letter of letters) {
    if (!groups.has(letter.code)) groups.set(letter.code, []);
    groups.get(letter.code).push(letter);
  }
  replace(
    ui.list,
    [...groups.entries()].map(([code, items], index) => group(code, items, index)),
  );
}

function subject(letter) {
  const payload = letter.payload || {};
  return {
    caseId: payload.externalCaseId || payload.metadata?.innsendingReferanse?.toString?.() || payload.flowInstanceId || "—",
    source: payload.sourceSystem || (letter.kind === "events" ? "—" : letter.kind),
    raw: payload.status ?? payload.milepæl ?? "—",
  };
}

function group(code, items, index) {
  const reason = DEAD_LETTER_REASONS[code] || code;
  const missing = new Map();
  if (code === "UNMAPPED_STATUS") {
    for (const letter of items) {
      const { source, raw } = subject(letter);
      const key = `${source} ${raw}`;
      missing.set(key, (missing.get(key) || 0) + 1);
    }
  }
  return h(
    "section",
    { class: "panel dl-group", "data-testid": "dl-group", dataset: { code }, "aria-labelledby": `dl-group-${index}` },
    h("h2", { id: `dl-group-${index}` }, `${reason} `, h("code", {}, code), ` (${items.length})`),
    missing.size
      ? h("p", { class: "help" }, "Codes without a mapping: ", [...missing.entries()].map(([key, n]) => `${key} (${n})`).join(", "), ". Add them in the draft and publish, then replay.")
      : null,
    scroller(
      `${reason}: messages`,
      h(
        "table",
        { class: "data stack" },
        h("caption", { class: "sr-only" }, `${reason}: messages`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Received"), h("th", { scope: "col" }, "Case"), h("th", { scope: "col" }, "Source and code"), h("th", { scope: "col" }, "Why"), h("th", { scope: "col" }, "Replays"), h("th", { scope: "col" }, "State"), h("th", { scope: "col" }, sr("Actions")))),
        h("tbody", {}, items.map(row)),
      ),
    ),
  );
}

function row(letter) {
  const { caseId, source, raw } = subject(letter);
  const last = letter.replayResult;
  return h(
    "tr",
    { "data-testid": "dl-row", dataset: { id: letter.id, state: letter.state, code: letter.code } },
    h("td", { "data-label": "Received" }, formatInstant(letter.receivedAt, timeZone())),
    h("td", { "data-label": "Case" }, caseId),
    h("td", { "data-label": "Source and code" }, `${source} `, h("code", {}, raw)),
    h(
      "td",
      { "data-label": "Why", class: "comment" },
      letter.detail,
      h("details", {}, h("summary", {}, "Message"), h("pre", {}, JSON.stringify(letter.payload, null, 2))),
    ),
    h("td", { "data-label": "Replays", class: "number" }, String(letter.attempts ?? 0), last?.code && letter.state === "pending" ? h("span", { class: "help" }, ` (last: ${last.code})`) : null),
    h("td", { "data-label": "State" }, letter.state === "pending" ? "Waiting" : `Replayed ${formatInstant(letter.replayedAt, timeZone())}`),
    h(
      "td",
      { class: "row-actions" },
      letter.state === "pending"
        ? h(
            "button",
            { type: "button", class: "button small primary", "data-testid": "dl-replay", dataset: { id: letter.id }, onclick: (event) => replayOne(letter, event.currentTarget) },
            "Replay",
            sr(` the message for ${caseId}`),
          )
        : null,
    ),
  );
}

function outcomeItem(result, letter) {
  const caseId = letter ? subject(letter).caseId : result.deadLetterId;
  if (result.outcome === "accepted") {
    const response = result.response || {};
    const status = response.status ? `; it now shows “${response.status}” (rules version ${response.ruleVersion})` : "";
    return h("li", { class: "accepted", "data-testid": "dl-result", dataset: { outcome: "accepted", id: result.deadLetterId } }, `Accepted: ${caseId}${status}.`);
  }
  return h(
    "li",
    { class: "rejected", "data-testid": "dl-result", dataset: { outcome: "rejected", id: result.deadLetterId } },
    `Refused again: ${caseId} — ${DEAD_LETTER_REASONS[result.code] || result.code}: ${result.detail}. It stays parked.`,
  );
}

async function replayOne(letter, button) {
  await busy(
    button,
    async () => {
      try {
        const result = await api("POST", `/api/v1/deadletters/${encodeURIComponent(letter.id)}/replay`);
        replace(ui.results, h("div", { class: `message ${result.outcome === "accepted" ? "success" : "warning"}` }, h("ul", { class: "plain" }, outcomeItem(result, letter))));
      } catch (error) {
        replace(ui.results, message("error", describe(error)));
      }
    },
    "Replaying…",
  );
  await reload();
}

/** Replays every pending one, oldest first, one request each: a bar that fills, and Stop between two. */
async function replayAll() {
  let pending;
  try {
    pending = await api("GET", "/api/v1/deadletters?state=pending");
  } catch (error) {
    replace(ui.results, message("error", describe(error)));
    return;
  }
  if (!pending.length) {
    replace(ui.results, message("info", h("p", { "data-testid": "dl-summary" }, "No dead letters are waiting.")));
    await reload();
    return;
  }
  replace(ui.results);
  const controls = [ui.replayAll, ui.refresh, ui.state, ...ui.list.querySelectorAll("button")];
  let outcome;
  try {
    outcome = await replayEach(pending, { host: ui.progress, controls, label: `Replaying ${pending.length} dead letter${pending.length === 1 ? "" : "s"}`, testid: "dl-progress" });
  } catch (error) {
    replace(ui.results, message("error", describe(error)));
    return;
  }
  replace(
    ui.results,
    h(
      "div",
      { class: `message ${outcome.rejected || outcome.failed || outcome.stopped ? "warning" : "success"}` },
      h("p", { "data-testid": "dl-summary" }, outcome.summary),
      h(
        "ul",
        { class: "plain" },
        outcome.results.map(({ letter, result, error }) =>
          result ? outcomeItem(result, letter) : h("li", { class: "rejected", "data-testid": "dl-result", dataset: { outcome: "failed", id: letter.id } }, `Not replayed: ${subject(letter).caseId} — ${describe(error)}`),
        ),
      ),
    ),
  );
  await reload();
}
