// Editing the document as JSON text: every part of it, including what the form does not show
// (categories, roles, rule tests). The JSON wins while it is open; leaving it takes it into the form.

import { h, message, replace } from "../../dom.js";
import { sameJSON } from "../../rules.js";
import { currentDocument, hooks, makeModel, model, setModel, ui } from "./model.js";

/** Shows the form or the JSON text; leaving the JSON takes it into the form first. */
export function switchView(view) {
  if (view === model.view) return;
  if (view === "json") {
    ui.jsonArea.value = JSON.stringify(currentDocument(), null, 2);
    replace(ui.jsonError);
  } else if (!applyJSON()) {
    return;
  }
  model.view = view;
  ui.form.hidden = view !== "form";
  ui.json.hidden = view !== "json";
  ui.formTab.setAttribute("aria-pressed", String(view === "form"));
  ui.jsonTab.setAttribute("aria-pressed", String(view === "json"));
  (view === "json" ? ui.jsonArea : ui.form.querySelector("input, select"))?.focus();
}

/** Takes the JSON text into the form; false (with a message) when it does not parse. */
function applyJSON() {
  let parsed;
  try {
    parsed = JSON.parse(ui.jsonArea.value);
  } catch (error) {
    replace(ui.jsonError, message("error", `The JSON does not parse: ${error.message}. Fix it, or switch back after undoing the change.`));
    ui.jsonArea.setAttribute("aria-invalid", "true");
    ui.jsonArea.focus();
    return false;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    replace(ui.jsonError, message("error", "The rules document must be a JSON object ({ … })."));
    ui.jsonArea.focus();
    return false;
  }
  ui.jsonArea.removeAttribute("aria-invalid");
  replace(ui.jsonError);
  if (!sameJSON(parsed, currentDocument())) {
    const keep = { base: model.base, savedAt: model.savedAt, savedBy: model.savedBy, inferredBase: model.inferredBase };
    setModel({ ...makeModel(parsed, keep.base, null), ...keep, dirty: true, view: model.view });
    hooks.replaced();
  }
  return true;
}

/** Makes sure the form holds what the person sees (the JSON view wins while it is open). */
export function syncView() {
  if (model.view !== "json") return true;
  if (!applyJSON()) return false;
  switchView("form");
  return true;
}

/** The "Edit as" switch and the JSON panel, put into `ui` for the screen to place. */
export function jsonParts() {
  ui.formTab = h("button", { type: "button", class: "view-tab", id: "view-form", "aria-pressed": "true", onclick: () => switchView("form") }, "Form");
  ui.jsonTab = h("button", { type: "button", class: "view-tab", id: "view-json", "aria-pressed": "false", onclick: () => switchView("json") }, "JSON");
  ui.jsonArea = h("textarea", { id: "draft-json", "data-testid": "draft-json", spellcheck: "false", rows: "28", autocomplete: "off" });
  ui.jsonError = h("div", { id: "draft-json-error", "aria-live": "polite" });
  ui.json = h(
    "div",
    { class: "draft-json", hidden: true },
    h("div", { class: "field" }, h("label", { for: "draft-json" }, "Rules document (JSON)"), ui.jsonArea, h("p", { class: "help" }, "For experts: every part of the document, including categories, roles and rule tests. Switch back to the form or press Validate to use it.")),
    ui.jsonError,
  );
  return {
    viewSwitch: h("div", { class: "view-switch", role: "group", "aria-label": "Edit as" }, h("span", { class: "view-switch-label", "aria-hidden": "true" }, "Edit as:"), ui.formTab, ui.jsonTab),
    panel: ui.json,
  };
}
