// The active release: who published it and why, the code mappings, the statuses, the moves.

import { describe } from "../api.js";
import { refreshActive, state, timeZone } from "../context.js";
import { h, message, replace } from "../dom.js";
import { formatInstant } from "../rules.js";
import { mappingTable, simulator, statusesTable, transitionMatrixView } from "../views.js";

/** Shows the active release, fetched anew each time the screen opens. */
export async function show(container) {
  if (!state.active) replace(container, h("p", { class: "help" }, "Loading the active rules…"));
  try {
    await refreshActive();
  } catch (error) {
    replace(container, message("error", describe(error)));
    return;
  }
  const release = state.active;
  const document = release.document;
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
      transitionMatrixView(document),
    ),
    sim.element,
  );
  sim.refresh(document);
}
