// Every release, a readable diff between any two, and rolling back to an earlier one.

import { api, describe } from "../api.js";
import { can, confirmDialog, notify, refreshActive, state, timeZone } from "../context.js";
import { busy, h, message, replace, scroller } from "../dom.js";
import { dataLanguage, describePath, describeValue, formatInstant } from "../rules.js";

let root = null;
let ui = {};

/** Forgets everything (sign-out). */
export function reset() {
  root = null;
  ui = {};
}

/** Lists the releases (fetched anew each time) and keeps the chosen comparison. */
export async function show(container) {
  root = container;
  replace(container, h("p", { class: "help" }, "Loading the versions…"));
  let versions;
  try {
    [versions] = await Promise.all([api("GET", "/admin/v1/rules/versions"), refreshActive()]);
  } catch (error) {
    replace(container, message("error", describe(error)));
    return;
  }
  versions.sort((a, b) => b.version - a.version);
  const activeVersion = state.active.version;
  const pending = state.pendingDiff;
  state.pendingDiff = null;

  ui.result = h("div", { id: "versions-result", "data-testid": "versions-result", "aria-live": "polite" });
  ui.diff = h("div", { id: "diff-result", "data-testid": "diff-result", "aria-live": "polite" });
  const options = (selected) => versions.map((v) => h("option", { value: String(v.version), selected: v.version === selected }, `Version ${v.version}${v.version === activeVersion ? " (active)" : ""}`));
  const defaultTo = pending?.to ?? activeVersion;
  const defaultFrom = pending?.from ?? (versions.find((v) => v.version < defaultTo)?.version || defaultTo);
  const fromSelect = h("select", { id: "diff-from", "data-testid": "diff-from" }, options(defaultFrom));
  const toSelect = h("select", { id: "diff-to", "data-testid": "diff-to" }, options(defaultTo));
  const compareButton = h("button", { type: "submit", class: "button primary", id: "diff-show", "data-testid": "diff-show" }, "Show the differences");
  const compareForm = h(
    "form",
    {
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        await busy(compareButton, () => showDiff(Number(fromSelect.value), Number(toSelect.value)));
      },
    },
    h(
      "div",
      { class: "row" },
      h("div", { class: "field" }, h("label", { for: "diff-from" }, "From version"), fromSelect),
      h("div", { class: "field" }, h("label", { for: "diff-to" }, "To version"), toSelect),
      h("div", { class: "field field-button" }, compareButton),
    ),
  );

  const rows = versions.map((v) => {
    const isActive = v.version === activeVersion;
    return h(
      "tr",
      { "data-testid": "version-row", dataset: { version: String(v.version), active: String(isActive) } },
      h("th", { scope: "row", "data-label": "Version" }, String(v.version), isActive ? h("span", { class: "tag active" }, "active") : null),
      h("td", { "data-label": "Published" }, formatInstant(v.publishedAt, timeZone())),
      h("td", { "data-label": "By" }, v.publishedBy),
      h("td", { "data-label": "Comment", class: "comment" }, v.comment || "—", v.rolledBackFrom ? h("span", { class: "tag" }, `rules of version ${v.rolledBackFrom}`) : null),
      h(
        "td",
        { class: "row-actions", "data-label": "Actions" },
        h(
          "button",
          {
            type: "button",
            class: "button small secondary",
            "data-testid": "compare-previous",
            disabled: v.version === 1,
            onclick: async (event) => {
              fromSelect.value = String(v.version - 1);
              toSelect.value = String(v.version);
              await busy(event.currentTarget, () => showDiff(v.version - 1, v.version));
            },
          },
          "What changed",
        ),
        can("rules:publish") && !isActive
          ? h(
              "button",
              { type: "button", class: "button small danger-outline", "data-testid": "rollback", dataset: { version: String(v.version) }, onclick: (event) => rollback(v.version, event.currentTarget) },
              `Roll back to ${v.version}`,
            )
          : null,
      ),
    );
  });

  replace(
    container,
    ui.result,
    h(
      "section",
      { class: "panel", "aria-labelledby": "diff-title" },
      h("h2", { id: "diff-title" }, "Compare two versions"),
      compareForm,
      ui.diff,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "list-title" },
      h("h2", { id: "list-title" }, "All versions"),
      h("p", { class: "help" }, can("rules:publish") ? "A release never changes. Rolling back publishes a new version with the rules of the chosen one." : "A release never changes."),
      scroller(
        "Versions",
        h(
          "table",
          { class: "data stack", "data-testid": "versions-table" },
          h("caption", {}, "Releases, newest first"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Version"), h("th", { scope: "col" }, "Published"), h("th", { scope: "col" }, "By"), h("th", { scope: "col" }, "Comment"), h("th", { scope: "col" }, "Actions"))),
          h("tbody", {}, rows),
        ),
      ),
    ),
  );
  if (pending || versions.length > 1) await showDiff(Number(fromSelect.value), Number(toSelect.value));
}

async function showDiff(from, to) {
  if (from === to) {
    replace(ui.diff, message("info", "Choose two different versions."));
    return;
  }
  let changes;
  try {
    changes = await api("GET", `/admin/v1/rules/diff?from=${from}&to=${to}`);
  } catch (error) {
    replace(ui.diff, message("error", describe(error)));
    return;
  }
  const word = { added: "Added", removed: "Removed", changed: "Changed" };
  replace(
    ui.diff,
    h(
      "p",
      { "data-testid": "diff-summary" },
      changes.length ? `${changes.length} change${changes.length === 1 ? "" : "s"} from version ${from} to version ${to}:` : `Versions ${from} and ${to} have the same rules.`,
    ),
    changes.length
      ? scroller(
          "Differences",
          h(
            "table",
            { class: "data stack diff", "data-testid": "diff-table", lang: dataLanguage(state.active?.document) },
            h("caption", { class: "sr-only" }, `From version ${from} to version ${to}`),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "Change"), h("th", { scope: "col" }, `In version ${from}`), h("th", { scope: "col" }, `In version ${to}`))),
            h(
              "tbody",
              {},
              changes.map((change) =>
                h(
                  "tr",
                  { class: `change-${change.change}`, dataset: { path: change.path, change: change.change } },
                  h("th", { scope: "row", "data-label": "What" }, describePath(change.path), h("code", { class: "path" }, change.path)),
                  h("td", { "data-label": "Change" }, h("span", { class: `tag ${change.change}` }, word[change.change] || change.change)),
                  h("td", { "data-label": `In version ${from}`, class: "old" }, describeValue(change.old, change.path)),
                  h("td", { "data-label": `In version ${to}`, class: "new" }, describeValue(change.new, change.path)),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}

async function rollback(version, button) {
  const answer = await confirmDialog({
    title: `Roll back to version ${version}?`,
    text: `This publishes a new version with the rules of version ${version}, replacing the active version ${state.active.version}. Cases whose status changes show the new status at once.`,
    okText: `Roll back to version ${version}`,
    comment: `Roll back to version ${version}`,
  });
  if (!answer.ok) return;
  await busy(button, async () => {
    try {
      const result = await api("POST", "/admin/v1/rules/rollback", { body: { toVersion: version, comment: answer.comment } });
      notify("success", `Rolled back: version ${result.version} is active, with the rules of version ${version}.`);
      await show(root);
      replace(ui.result, message("success", h("span", { "data-testid": "rollback-success" }, `Rolled back: version ${result.version} is active now, with the rules of version ${version}.`)));
    } catch (error) {
      replace(ui.result, message("error", describe(error)));
    }
  });
}
