// The active release: who published it and why, the mapping chain and the code mappings, the
// statuses, the moves as a flow graph and as a matrix.

import { describe } from "../api.js";
import { refreshActive, state, timeZone } from "../context.js";
import { h, message, replace } from "../dom.js";
import { mappingChain } from "../pictures/chain.js";
import { statusFlow } from "../pictures/flow.js";
import { dataLanguage, formatInstant } from "../rules.js";
import { mappingTable, parkedCodes, simulator, statusesTable, transitionMatrixView } from "../views.js";

/** Shows the active release, fetched anew each time the screen opens. */
export async function show(container) {
  if (!state.active) replace(container, h("p", { class: "help" }, "Loading the active rules…"));
  let parked;
  try {
    [, parked] = await Promise.all([refreshActive(), parkedCodes()]);
  } catch (error) {
    replace(container, message("error", describe(error)));
    return;
  }
  const release = state.active;
  const document = release.document;
  const lang = dataLanguage(document);
  const sim = simulator({ getDocument: () => null, prefix: "rules-sim", against: `with the active release (version ${release.version})` });
  replace(
    container,
    h(
      "section",
      { class: "panel release", "aria-labelledby": "release-title", "data-testid": "release" },
      h("h2", { id: "release-title" }, "Active release"),
      h(
        "dl",
        { class: "facts" },
        h("div", {}, h("dt", {}, "Version"), h("dd", { "data-testid": "release-version" }, String(release.version))),
        h("div", {}, h("dt", {}, "Published"), h("dd", { "data-testid": "release-published-at" }, `${formatInstant(release.publishedAt, timeZone())} (${timeZone() || "UTC"})`)),
        h("div", {}, h("dt", {}, "Published by"), h("dd", { "data-testid": "release-published-by" }, release.publishedBy)),
        h("div", { class: "wide" }, h("dt", {}, "Comment"), h("dd", { "data-testid": "release-comment" }, release.comment || "—")),
        release.rolledBackFrom ? h("div", {}, h("dt", {}, "Rolled back to"), h("dd", {}, `the rules of version ${release.rolledBackFrom}`)) : null,
      ),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "chain-title", "data-testid": "chain-section" },
      h("h2", { id: "chain-title" }, "Mapping chain"),
      h("p", { class: "help" }, "Per source system: each code a case-management system sends → the portal status it shows → the national category. Codes of pending dead letters that have no mapping are marked, so that you see what to add."),
      Object.keys(document.sources || {}).map((source, index) => mappingChain(document, source, { parked: parked.get(source) || [], index, lang })),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "mappings-title" },
      h("h2", { id: "mappings-title" }, "Code mappings"),
      h("p", { class: "help" }, "What each code a case-management system sends becomes in the portal."),
      Object.keys(document.sources || {}).map((source, index) => mappingTable(document, source, index)),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "statuses-title" },
      h("h2", { id: "statuses-title" }, "Portal statuses"),
      statusesTable(document),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "moves-title" },
      h("h2", { id: "moves-title" }, "Allowed moves"),
      h("h3", {}, "Status flow"),
      statusFlow(document, { lang }),
      h("h3", {}, "As a matrix"),
      transitionMatrixView(document),
    ),
    sim.element,
  );
  sim.refresh(document);
}
