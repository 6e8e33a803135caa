// Pieces shown on more than one screen: the statuses table, the transition matrix, the simulator.

import { api, describe } from "./api.js";
import { busy, h, message, replace, scroller, uid } from "./dom.js";
import { categoryOf, dataLanguage, statusNames, transitionMatrix } from "./rules.js";

/**
 * The codes of pending UNMAPPED_STATUS dead letters per source system: Map(source → [{code, count}]),
 * from the overview's counts (rules:read; no message is read). Empty when they cannot be had.
 */
export async function parkedCodes() {
  const bySource = new Map();
  let tally;
  try {
    tally = await api("GET", "/admin/v1/stats/deadletters");
  } catch (error) {
    if (error.status === 401) throw error;
    return bySource;
  }
  for (const entry of tally.byCode || []) {
    if (entry.code !== "UNMAPPED_STATUS") continue;
    for (const subject of entry.subjects || []) {
      if (!subject.sourceSystem || subject.rawStatus === null || subject.rawStatus === undefined) continue;
      if (!bySource.has(subject.sourceSystem)) bySource.set(subject.sourceSystem, []);
      bySource.get(subject.sourceSystem).push({ code: subject.rawStatus, count: subject.count });
    }
  }
  return bySource;
}

/** The portal statuses with their categories and initial/final flags. */
export function statusesTable(document, testid = "statuses-table") {
  const matrix = transitionMatrix(document);
  const rows = (document.statuses || []).map((status) =>
    h(
      "tr",
      { dataset: { status: status.name } },
      h("th", { scope: "row", "data-label": "Status" }, status.name),
      h("td", { "data-label": "Category" }, status.category || "—"),
      h("td", { "data-label": "Initial" }, status.initial ? "Yes" : "No"),
      h(
        "td",
        { "data-label": "Final" },
        status.final ? "Yes" : matrix.finals.has(status.name) ? "Yes (its rule allows no moves)" : "No",
      ),
    ),
  );
  return scroller(
    "Portal statuses",
    h(
      "table",
      { class: "data stack", "data-testid": testid, lang: dataLanguage(document) },
      h("caption", {}, "Portal statuses and their national categories"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Category"), h("th", { scope: "col" }, "Initial"), h("th", { scope: "col" }, "Final"))),
      h("tbody", {}, rows),
    ),
  );
}

/** The transitions as a matrix: rows are the status a case is in, columns the status it moves to. */
export function transitionMatrixView(document, testid = "transition-matrix") {
  const matrix = transitionMatrix(document);
  const head = h(
    "tr",
    {},
    h("td", { class: "corner" }, h("span", { class: "corner-from" }, "From ↓"), h("span", { class: "corner-to" }, "To →")),
    matrix.names.map((name) => h("th", { scope: "col" }, name)),
  );
  const body = matrix.names.map((from) =>
    h(
      "tr",
      { dataset: { from } },
      h("th", { scope: "row" }, from, matrix.finals.has(from) ? h("span", { class: "tag" }, "final") : null),
      matrix.names.map((to) => {
        const cell = matrix.cell(from, to);
        const symbol = { allow: "✓", deny: "✗", stay: "–" }[cell.kind];
        const word = { allow: "Allowed", deny: "Denied", stay: "Same status" }[cell.kind];
        return h(
          "td",
          { class: `move ${cell.kind}`, title: cell.reason, dataset: { to, move: cell.kind } },
          h("span", { "aria-hidden": "true" }, symbol),
          h("span", { class: "sr-only" }, `${word}: ${cell.reason}`),
        );
      }),
    ),
  );
  const rulesText = [...matrix.ruleFor.entries()].map(([from, to]) => (to.length ? `${from} may move only to ${to.join(", ")}` : `${from} is final`));
  return h(
    "div",
    { class: "matrix-block" },
    h(
      "p",
      {},
      matrix.byDefault === "allow"
        ? "By default every move is allowed; "
        : "By default every move is denied; ",
      rulesText.length ? rulesText.join("; ") + "." : "there are no rules.",
      matrix.finals.size ? ` A final status (${[...matrix.finals].join(", ")}) never changes.` : "",
      " Staying on the same status is not a move.",
    ),
    h("p", { class: "help", "aria-hidden": "true" }, "Rows: the status a case is in. Columns: the status it would move to."),
    scroller(
      "Allowed moves",
      h(
        "table",
        { class: "matrix", "data-testid": testid, lang: dataLanguage(document) },
        h("caption", { class: "sr-only" }, "Allowed moves: rows are the current status, columns the new status"),
        h("thead", {}, head),
        h("tbody", {}, body),
      ),
    ),
    h(
      "p",
      { class: "legend", "aria-hidden": "true" },
      h("span", { class: "move allow" }, "✓"),
      " allowed  ",
      h("span", { class: "move deny" }, "✗"),
      " denied  ",
      h("span", { class: "move stay" }, "–"),
      " same status (not a move)",
    ),
  );
}

/**
 * A form that asks the engine what a code would become: against the document `getDocument()`
 * returns (a draft) or, when it returns null, the active release.
 */
export function simulator({ getDocument, prefix, against }) {
  const sourceSelect = h("select", { id: `${prefix}-source`, "data-testid": `${prefix}-source` });
  const codeInput = h("input", { id: `${prefix}-code`, type: "text", autocomplete: "off", spellcheck: "false", list: `${prefix}-codes`, "data-testid": `${prefix}-code` });
  const codeList = h("datalist", { id: `${prefix}-codes` });
  const fromSelect = h("select", { id: `${prefix}-from`, "data-testid": `${prefix}-from` });
  const result = h("div", { class: "sim-result", id: `${prefix}-result`, "data-testid": `${prefix}-result`, role: "status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "button secondary", id: `${prefix}-run`, "data-testid": `${prefix}-run` }, "Simulate");

  function refreshChoices(document) {
    const sources = Object.keys(document?.sources || {});
    const chosen = sourceSelect.value;
    replace(sourceSelect, sources.map((name) => h("option", { value: name, selected: name === chosen }, name)));
    const codes = Object.keys(document?.sources?.[sourceSelect.value]?.codes || {});
    replace(codeList, codes.map((code) => h("option", { value: code })));
    const from = fromSelect.value;
    replace(
      fromSelect,
      h("option", { value: "" }, "(a new case)"),
      statusNames(document).map((name) => h("option", { value: name, selected: name === from }, name)),
    );
  }

  sourceSelect.addEventListener("change", () => refreshChoices(currentDocument()));

  function currentDocument() {
    return getDocument() ?? null;
  }

  const form = h(
    "form",
    {
      class: "simulate",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        const code = codeInput.value.trim();
        if (!code) {
          replace(result, message("error", "Enter the code the source system sends."));
          codeInput.focus();
          return;
        }
        const body = { sourceSystem: sourceSelect.value, code };
        if (fromSelect.value) body.fromStatus = fromSelect.value;
        const document = getDocument();
        if (document) body.document = document;
        await busy(button, async () => {
          try {
            const outcome = await api("POST", "/admin/v1/rules/simulate", { body });
            replace(result, simulationText(body, outcome));
          } catch (error) {
            replace(result, message("error", describe(error)));
          }
        });
      },
    },
    h(
      "div",
      { class: "row" },
      h("div", { class: "field" }, h("label", { for: sourceSelect.id }, "Source system"), sourceSelect),
      h("div", { class: "field" }, h("label", { for: codeInput.id }, "Code"), codeInput, codeList),
      h("div", { class: "field" }, h("label", { for: fromSelect.id }, "Current status (optional)"), fromSelect),
      h("div", { class: "field field-button" }, button),
    ),
    result,
  );
  return {
    element: h("section", { class: "panel", "aria-labelledby": `${prefix}-title` }, h("h2", { id: `${prefix}-title` }, "Simulate a code"), h("p", { class: "help" }, `What would a code become ${against}?`), form),
    refresh: (document) => refreshChoices(document),
  };
}

function simulationText(request, outcome) {
  const lead = `${request.sourceSystem} ${request.code}`;
  let text;
  let kind = "info";
  switch (outcome.outcome) {
    case "unknownSource":
      text = `There is no source system ${request.sourceSystem} in these rules: the event would be refused.`;
      kind = "warning";
      break;
    case "unmapped":
      text = `${lead} has no mapping: the event would be refused (UNMAPPED_STATUS) and parked as a dead letter.`;
      kind = "warning";
      break;
    case "default":
      text = `${lead} has no mapping of its own; the source system's default gives “${outcome.status}” (category ${outcome.category}).`;
      break;
    default:
      text = `${lead} → “${outcome.status}” (category ${outcome.category}).`;
  }
  const parts = [h("p", {}, text)];
  if (request.fromStatus && outcome.status) {
    if (request.fromStatus === outcome.status) {
      parts.push(h("p", {}, `A case in “${request.fromStatus}” stays where it is (not a move).`));
    } else if (outcome.transitionAllowed) {
      parts.push(h("p", {}, `A case in “${request.fromStatus}” may move to “${outcome.status}”.`));
    } else {
      parts.push(h("p", {}, `A case in “${request.fromStatus}” may NOT move to “${outcome.status}”: the event would be refused (ILLEGAL_TRANSITION) and parked as a dead letter.`));
      kind = "warning";
    }
  }
  return h("div", { class: `message ${kind}`, dataset: { outcome: outcome.outcome, allowed: String(outcome.transitionAllowed) } }, parts);
}

/** A read-only code mapping table for one source system, with a search box. */
export function mappingTable(document, source, index) {
  const definition = document.sources[source] || {};
  const categories = categoryOf(document);
  const entries = Object.entries(definition.codes || {});
  const searchId = uid("search");
  const countId = uid("count");
  const search = h("input", {
    id: searchId,
    type: "search",
    autocomplete: "off",
    spellcheck: "false",
    "data-testid": "mapping-search",
    "data-source": source,
    "aria-describedby": countId,
    "aria-controls": `mapping-${index}`,
  });
  const count = h("p", { class: "help", id: countId, "aria-live": "polite" });
  const rows = entries.map(([code, status]) =>
    h(
      "tr",
      { dataset: { code, status } },
      h("th", { scope: "row", "data-label": "Code" }, h("code", {}, code)),
      h("td", { "data-label": "Portal status" }, status),
      h("td", { "data-label": "Category" }, categories.get(status) || "—"),
    ),
  );
  const tbody = h("tbody", {}, rows);
  const empty = h("p", { class: "help", hidden: true }, "No code matches the search.");
  function filter() {
    const needle = search.value.trim().toLocaleLowerCase();
    let shown = 0;
    for (const row of rows) {
      const haystack = `${row.dataset.code} ${row.dataset.status} ${categories.get(row.dataset.status) || ""}`.toLocaleLowerCase();
      const visible = !needle || haystack.includes(needle);
      row.hidden = !visible;
      if (visible) shown += 1;
    }
    count.textContent = `Showing ${shown} of ${rows.length} codes`;
    empty.hidden = shown !== 0;
  }
  search.addEventListener("input", filter);
  filter();
  const unmapped = definition.unmapped;
  const policy =
    unmapped && typeof unmapped === "object" && unmapped.default
      ? `A code without a mapping gets the status “${unmapped.default}”.`
      : "A code without a mapping is refused and parked as a dead letter.";
  return h(
    "section",
    { class: "source", "data-testid": "source", "data-source": source, "aria-labelledby": `source-title-${index}` },
    h("h3", { id: `source-title-${index}` }, source),
    h("p", { class: "help" }, policy),
    h("div", { class: "field search" }, h("label", { for: searchId }, `Search ${source} codes, statuses or categories`), search),
    count,
    scroller(
      `${source} mapping`,
      h(
        "table",
        { class: "data mapping", id: `mapping-${index}`, "data-testid": "mapping-table", "data-source": source, lang: dataLanguage(document) },
        h("caption", {}, `${source}: code → portal status → category`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Code"), h("th", { scope: "col" }, "Portal status"), h("th", { scope: "col" }, "Category"))),
        tbody,
      ),
    ),
    empty,
  );
}
