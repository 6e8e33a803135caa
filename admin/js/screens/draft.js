// The draft screen: edit code mappings, statuses and moves in forms (or the raw JSON), validate
// with every finding shown at its field, simulate, save, publish with optimistic concurrency.
// The parts live in ./draft/: the model, the form editors, the JSON view, findings, the
// validation report with the impact, and publishing.

import { api, describe } from "../api.js";
import { can, confirmDialog, refreshActive, state, timeZone } from "../context.js";
import { busy, h, message, replace } from "../dom.js";
import { mappingChain } from "../pictures/chain.js";
import { statusFlow } from "../pictures/flow.js";
import { dataLanguage, formatInstant, mappingChanges } from "../rules.js";
import { parkedCodes, simulator, transitionMatrixView } from "../views.js";
import { prepare } from "./draft/findings.js";
import { renderForm } from "./draft/form.js";
import { jsonParts } from "./draft/json.js";
import { currentDocument, forget, hooks, load, makeModel, model, rememberBase, root, setModel, setRoot, ui } from "./draft/model.js";
import { conflictActions, publishPanel } from "./draft/publish.js";
import { showReport } from "./draft/report.js";

let previewTimer = null;
/** Codes of pending dead letters without a mapping, per source (fetched when the screen opens). */
let parked = new Map();

hooks.changed = () => {
  renderStatus();
  schedulePreview();
};
hooks.replaced = () => {
  renderForm();
  renderStatus();
  renderPreview();
  ui.sim.refresh(currentDocument());
};
hooks.renderStatus = () => renderStatus();
hooks.startAgain = () => startAgain();

/** Forgets everything (sign-out). */
export function reset() {
  forget();
}

/** Whether there are edits not yet saved on the server. */
export function hasUnsavedChanges() {
  return Boolean(model?.dirty);
}

/** Opens the draft screen: loads the draft (or starts one from the active release) the first time. */
export async function show(container) {
  if (model && root === container && ui.form?.isConnected) {
    try {
      await refreshActive();
    } catch {
      /* the warning below keeps the last known version */
    }
    renderStatus();
    return;
  }
  setRoot(container);
  replace(container, h("p", { class: "help" }, "Loading the draft…"));
  try {
    [, parked] = await Promise.all([load(), parkedCodes()]);
  } catch (error) {
    replace(
      container,
      message("error", describe(error)),
      h("button", { type: "button", class: "button secondary", onclick: () => show(container) }, "Try again"),
    );
    return;
  }
  render();
}

function render() {
  setRoot(root);
  ui.status = h("div", { class: "draft-status", id: "draft-status", "data-testid": "draft-status" });
  ui.baseWarning = h("div", { id: "draft-base-warning", "data-testid": "draft-base-warning" });
  ui.actionMessage = h("div", { id: "draft-action-message", "data-testid": "draft-action-message", "aria-live": "polite" });
  ui.summary = h("div", { class: "validation-summary", id: "validation-summary", "data-testid": "validation-summary", "aria-live": "polite" });

  const saveButton = h("button", { type: "button", class: "button secondary", id: "draft-save", "data-testid": "draft-save", onclick: () => save(saveButton) }, "Save draft");
  const validateButton = h("button", { type: "button", class: "button primary", id: "draft-validate", "data-testid": "draft-validate", onclick: () => validate(validateButton) }, "Validate");
  const resetButton = h("button", { type: "button", class: "button secondary", id: "draft-reset", "data-testid": "draft-reset", onclick: () => startAgain() }, "Start again");

  ui.results = h("section", { class: "panel results", id: "validation-results", "data-testid": "validation-results", "aria-labelledby": "results-title", hidden: true });
  ui.form = h("div", { class: "draft-form", id: "draft-form", "data-testid": "draft-form" });
  const jsonView = jsonParts();
  ui.preview = h("div", { id: "draft-preview" });
  ui.chainPreview = h("div", { id: "draft-chain-preview" });
  ui.sim = simulator({ getDocument: () => currentDocument(), prefix: "draft-sim", against: "with this draft (not yet published)" });

  replace(
    root,
    h(
      "div",
      { class: "toolbar", role: "region", "aria-label": "Draft actions" },
      ui.status,
      h("div", { class: "toolbar-buttons" }, validateButton, saveButton, resetButton),
      jsonView.viewSwitch,
      ui.summary,
    ),
    ui.baseWarning,
    ui.actionMessage,
    ui.results,
    ui.form,
    jsonView.panel,
    h(
      "section",
      { class: "panel", "aria-labelledby": "chain-preview-title" },
      h("h2", { id: "chain-preview-title" }, "Mapping chain in this draft"),
      h("p", { class: "help" }, "What the draft changes compared with the active release is marked (new, changed, removed), and so are codes of pending dead letters: still without a mapping, or mapped by the draft and waiting for a replay after you publish."),
      ui.chainPreview,
    ),
    h("section", { class: "panel", "aria-labelledby": "preview-title" }, h("h2", { id: "preview-title" }, "Allowed moves in this draft"), ui.preview),
    ui.sim.element,
    can("rules:publish") ? publishPanel() : h("p", { class: "help", "data-testid": "no-publish" }, "Your key may edit and save drafts, but not publish them."),
  );
  renderForm();
  renderStatus();
  renderPreview();
  ui.sim.refresh(currentDocument());
}

function renderStatus() {
  if (!ui.status) return;
  const parts = [h("strong", {}, `Based on version ${model.base}`)];
  if (model.inferredBase) parts.push(h("span", { class: "help" }, " (the release active when the draft was last saved)"));
  parts.push(" · ");
  parts.push(model.savedAt ? `saved on the server ${formatInstant(model.savedAt, timeZone())} by ${model.savedBy}` : "not saved on the server yet");
  if (model.dirty) parts.push(" · ", h("span", { class: "dirty", "data-testid": "unsaved" }, "unsaved changes"));
  replace(ui.status, h("p", {}, parts));

  const activeVersion = state.active?.version;
  if (activeVersion && model.base !== activeVersion) {
    replace(
      ui.baseWarning,
      message(
        "warning",
        h("p", {}, `The active release is now version ${activeVersion}, but this draft was started from version ${model.base}. Publishing it as it is would be refused, so that nobody's changes are lost unnoticed.`),
        conflictActions(model.base, activeVersion),
      ),
    );
  } else replace(ui.baseWarning);
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(renderPreview, 200);
}

function renderPreview() {
  if (!ui.preview) return;
  const document = currentDocument();
  const lang = dataLanguage(document);
  replace(ui.preview, statusFlow(document, { testid: "draft-flow", lang }), transitionMatrixView(document, "draft-matrix"));
  const changes = mappingChanges(state.active?.document, document);
  replace(
    ui.chainPreview,
    Object.keys(document.sources || {}).map((source, index) =>
      mappingChain(document, source, { parked: parked.get(source) || [], changes: changes.codes.get(source) || new Map(), changedCategories: changes.categories, index: 100 + index, lang }),
    ),
  );
}

async function validate(button) {
  if (!prepare()) return;
  await busy(
    button,
    async () => {
      try {
        const report = await api("POST", "/admin/v1/rules/validate", { body: { document: currentDocument() } });
        showReport(report);
      } catch (error) {
        replace(ui.actionMessage, message("error", describe(error)));
      }
    },
    "Validating…",
  );
}

async function save(button) {
  if (!prepare()) return;
  await busy(
    button,
    async () => {
      try {
        const saved = await api("PUT", "/admin/v1/rules/draft", { body: { document: currentDocument() } });
        model.savedAt = saved.updatedAt;
        model.savedBy = saved.updatedBy;
        model.dirty = false;
        rememberBase(saved.updatedAt);
        renderStatus();
        replace(ui.actionMessage, message("success", h("span", { "data-testid": "save-result" }, `Draft saved (${formatInstant(saved.updatedAt, timeZone())}). It is not active until it is published.`)));
      } catch (error) {
        replace(ui.actionMessage, message("error", describe(error)));
      }
    },
    "Saving…",
  );
}

async function startAgain() {
  let active;
  try {
    active = await refreshActive();
  } catch (error) {
    replace(ui.actionMessage, message("error", describe(error)));
    return;
  }
  const answer = await confirmDialog({
    title: "Start again?",
    text: `Replace the draft with the rules of the active release (version ${active.version})? Your edits in this draft are lost.`,
    okText: `Load version ${active.version}`,
  });
  if (!answer.ok) return;
  const kept = { savedAt: model.savedAt, savedBy: model.savedBy };
  setModel({ ...makeModel(active.document, active.version, null), ...kept, dirty: true });
  render();
  replace(ui.actionMessage, message("info", `The draft now holds version ${active.version}. Save it to keep it on the server.`));
  document.getElementById("draft-validate").focus();
}
