// The draft: edit code mappings, statuses and moves in forms (or the raw JSON), validate with every
// finding shown at its field, simulate, save, publish with optimistic concurrency.

import { api, describe } from "../api.js";
import { can, confirmDialog, notify, refreshActive, state, timeZone } from "../context.js";
import { busy, h, message, replace, scroller, sr, uid } from "../dom.js";
import {
  categoryOf,
  clone,
  dataLanguage,
  formatInstant,
  impactSentence,
  nearest,
  pointer,
  pointerSegments,
  sameJSON,
  statusNames,
} from "../rules.js";
import { simulator, transitionMatrixView } from "../views.js";

/** The draft being edited; survives switching screens, not signing out. */
let model = null;
let root = null;
let ui = {};
let previewTimer = null;
let nextRowId = 1;

/** Forgets everything (sign-out). */
export function reset() {
  model = null;
  root = null;
  ui = {};
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
  root = container;
  replace(container, h("p", { class: "help" }, "Loading the draft…"));
  try {
    await load();
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

// ---- the model ------------------------------------------------------------------------------

function baseItem() {
  return `statusbro.draftBase.${state.tenant}`;
}

function rememberBase(updatedAt) {
  sessionStorage.setItem(baseItem(), JSON.stringify({ baseVersion: model.base, updatedAt }));
}

function recalledBase() {
  try {
    return JSON.parse(sessionStorage.getItem(baseItem()) || "null");
  } catch {
    return null;
  }
}

async function load() {
  const active = await refreshActive();
  let saved = null;
  try {
    saved = await api("GET", "/admin/v1/rules/draft");
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  if (!saved) {
    model = makeModel(active.document, active.version, null);
    return;
  }
  // The server keeps no base version with the draft: use the one this tab noted when it saved it,
  // else the active version when the draft equals it, else the release active when it was saved.
  let base = null;
  let inferred = false;
  const recalled = recalledBase();
  if (recalled && recalled.updatedAt === saved.updatedAt) base = recalled.baseVersion;
  else if (sameJSON(saved.document, active.document)) base = active.version;
  else {
    inferred = true;
    try {
      base = (await api("GET", `/admin/v1/rules?at=${encodeURIComponent(saved.updatedAt)}`)).version;
    } catch {
      base = active.version;
    }
  }
  model = makeModel(saved.document, base, saved);
  model.inferredBase = inferred;
}

function makeModel(document, base, saved) {
  const doc = clone(document) || {};
  if (!doc.sources || typeof doc.sources !== "object" || Array.isArray(doc.sources)) doc.sources = {};
  if (!Array.isArray(doc.statuses)) doc.statuses = [];
  if (!doc.transitions || typeof doc.transitions !== "object") doc.transitions = { default: "allow", rules: [] };
  if (!Array.isArray(doc.transitions.rules)) doc.transitions.rules = [];
  const rows = new Map();
  for (const [source, definition] of Object.entries(doc.sources)) {
    rows.set(source, Object.entries(definition?.codes || {}).map(([code, status]) => ({ id: nextRowId++, code, status: String(status ?? "") })));
  }
  return {
    doc,
    rows,
    base,
    savedAt: saved?.updatedAt || null,
    savedBy: saved?.updatedBy || null,
    dirty: false,
    view: "form",
    inferredBase: false,
  };
}

/** The document as the form shows it now. */
function currentDocument() {
  const doc = clone(model.doc);
  for (const [source, rows] of model.rows) {
    doc.sources[source] = doc.sources[source] || {};
    doc.sources[source].codes = Object.fromEntries(rows.map((row) => [row.code, row.status]));
  }
  return doc;
}

function markDirty() {
  model.dirty = true;
  renderStatus();
  schedulePreview();
}

// ---- rendering --------------------------------------------------------------------------------

function render() {
  ui = {};
  ui.status = h("div", { class: "draft-status", id: "draft-status", "data-testid": "draft-status" });
  ui.baseWarning = h("div", { id: "draft-base-warning", "data-testid": "draft-base-warning" });
  ui.actionMessage = h("div", { id: "draft-action-message", "data-testid": "draft-action-message", "aria-live": "polite" });
  ui.summary = h("div", { class: "validation-summary", id: "validation-summary", "data-testid": "validation-summary", "aria-live": "polite" });

  const saveButton = h("button", { type: "button", class: "button secondary", id: "draft-save", "data-testid": "draft-save", onclick: () => save(saveButton) }, "Save draft");
  const validateButton = h("button", { type: "button", class: "button primary", id: "draft-validate", "data-testid": "draft-validate", onclick: () => validate(validateButton) }, "Validate");
  const resetButton = h("button", { type: "button", class: "button secondary", id: "draft-reset", "data-testid": "draft-reset", onclick: () => startAgain() }, "Start again");
  ui.formTab = h("button", { type: "button", class: "view-tab", id: "view-form", "aria-pressed": "true", onclick: () => switchView("form") }, "Form");
  ui.jsonTab = h("button", { type: "button", class: "view-tab", id: "view-json", "aria-pressed": "false", onclick: () => switchView("json") }, "JSON");

  ui.results = h("section", { class: "panel results", id: "validation-results", "data-testid": "validation-results", "aria-labelledby": "results-title", hidden: true });
  ui.form = h("div", { class: "draft-form", id: "draft-form", "data-testid": "draft-form" });
  ui.jsonArea = h("textarea", { id: "draft-json", "data-testid": "draft-json", spellcheck: "false", rows: "28", autocomplete: "off" });
  ui.jsonError = h("div", { id: "draft-json-error", "aria-live": "polite" });
  ui.json = h(
    "div",
    { class: "draft-json", hidden: true },
    h("div", { class: "field" }, h("label", { for: "draft-json" }, "Rules document (JSON)"), ui.jsonArea, h("p", { class: "help" }, "For experts: every part of the document, including categories, roles and rule tests. Switch back to the form or press Validate to use it.")),
    ui.jsonError,
  );
  ui.preview = h("div", { id: "draft-preview" });
  ui.sim = simulator({ getDocument: () => currentDocument(), prefix: "draft-sim", against: "with this draft (not yet published)" });

  replace(
    root,
    h(
      "div",
      { class: "toolbar", role: "region", "aria-label": "Draft actions" },
      ui.status,
      h("div", { class: "toolbar-buttons" }, validateButton, saveButton, resetButton),
      h("div", { class: "view-switch", role: "group", "aria-label": "Edit as" }, h("span", { class: "view-switch-label", "aria-hidden": "true" }, "Edit as:"), ui.formTab, ui.jsonTab),
      ui.summary,
    ),
    ui.baseWarning,
    ui.actionMessage,
    ui.results,
    ui.form,
    ui.json,
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

function conflictActions(base, activeVersion) {
  return h(
    "div",
    { class: "actions" },
    h("button", { type: "button", class: "button secondary", "data-testid": "conflict-compare", onclick: () => compare(base, activeVersion) }, `Compare version ${base} with ${activeVersion}`),
    h(
      "button",
      {
        type: "button",
        class: "button secondary",
        "data-testid": "conflict-rebase",
        onclick: () => {
          model.base = activeVersion;
          model.inferredBase = false;
          model.dirty = true;
          renderStatus();
          replace(ui.actionMessage, message("info", `Your draft is now based on version ${activeVersion}. Publishing it replaces version ${activeVersion} with your draft: check the differences first.`));
        },
      },
      `Keep my edits and publish over version ${activeVersion}`,
    ),
    h("button", { type: "button", class: "button secondary", "data-testid": "conflict-reload", onclick: () => startAgain() }, `Discard my draft and load version ${activeVersion}`),
  );
}

function compare(from, to) {
  state.pendingDiff = { from, to };
  location.hash = "#versions";
}

function renderForm() {
  const doc = model.doc;
  const statusList = h("datalist", { id: "draft-status-names" });
  const categoryList = h("datalist", { id: "draft-category-names" }, (doc.categories || []).map((c) => h("option", { value: c })));
  ui.statusList = statusList;
  refreshStatusList();

  ui.sources = h("div", { class: "sources" });
  for (const source of model.rows.keys()) ui.sources.append(sourceEditor(source));

  const newSource = h("input", { id: "new-source", type: "text", autocomplete: "off", spellcheck: "false", "data-testid": "new-source" });
  const addSource = h(
    "form",
    {
      class: "inline-form",
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        const name = newSource.value.trim();
        if (!name) return newSource.focus();
        if (model.rows.has(name)) {
          replace(addSourceMessage, message("error", `There is already a source system ${name}.`));
          return newSource.focus();
        }
        model.doc.sources[name] = { unmapped: "reject", codes: {} };
        model.rows.set(name, []);
        ui.sources.append(sourceEditor(name));
        newSource.value = "";
        replace(addSourceMessage);
        markDirty();
        ui.sim.refresh(currentDocument());
        ui.sources.lastElementChild.querySelector("button[data-action=add-mapping]")?.focus();
      },
    },
    h("div", { class: "field" }, h("label", { for: "new-source" }, "New source system (as it identifies itself, e.g. BYGGR)"), newSource),
    h("div", { class: "field field-button" }, h("button", { type: "submit", class: "button secondary", "data-testid": "add-source" }, "Add source system")),
  );
  const addSourceMessage = h("div", { "aria-live": "polite" });

  ui.statuses = h("div", {});
  ui.transitions = h("div", {});
  renderStatuses();
  renderTransitions();

  replace(
    ui.form,
    statusList,
    categoryList,
    h(
      "section",
      { class: "panel", "aria-labelledby": "edit-mappings-title", "data-pointer": "/sources", "data-slot": "slot-sources" },
      h("h2", { id: "edit-mappings-title" }, "Code mappings"),
      h("div", { class: "slot", id: "slot-sources" }),
      ui.sources,
      addSource,
      addSourceMessage,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "edit-statuses-title", "data-pointer": "/statuses", "data-slot": "slot-statuses" },
      h("h2", { id: "edit-statuses-title" }, "Portal statuses"),
      h("div", { class: "slot", id: "slot-statuses" }),
      ui.statuses,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "edit-moves-title", "data-pointer": "/transitions", "data-slot": "slot-transitions" },
      h("h2", { id: "edit-moves-title" }, "Moves between statuses"),
      h("div", { class: "slot", id: "slot-transitions" }),
      ui.transitions,
    ),
  );
}

function refreshStatusList() {
  replace(ui.statusList, statusNames(model.doc).map((name) => h("option", { value: name })));
}

function sourceIndex(source) {
  return [...model.rows.keys()].indexOf(source);
}

function sourceEditor(source) {
  const index = sourceIndex(source);
  const rows = model.rows.get(source);
  const definition = model.doc.sources[source];
  const slotId = uid("slot");
  const unmappedId = uid("unmapped");
  const defaultId = uid("default");
  const isDefault = definition.unmapped && typeof definition.unmapped === "object";
  const unmappedSelect = h(
    "select",
    { id: unmappedId, "data-pointer": pointer("sources", source, "unmapped"), "data-testid": "unmapped-policy" },
    h("option", { value: "reject", selected: !isDefault }, "Refuse it (park as a dead letter)"),
    h("option", { value: "default", selected: isDefault }, "Give it a default status"),
  );
  const defaultInput = h("input", {
    id: defaultId,
    type: "text",
    list: "draft-status-names",
    autocomplete: "off",
    value: isDefault ? definition.unmapped.default || "" : "",
    "data-pointer": pointer("sources", source, "unmapped", "default"),
  });
  const defaultField = h("div", { class: "field", hidden: !isDefault }, h("label", { for: defaultId }, "Default status"), defaultInput);
  unmappedSelect.addEventListener("change", () => {
    if (unmappedSelect.value === "default") {
      definition.unmapped = { default: defaultInput.value.trim() };
      defaultField.hidden = false;
      defaultInput.focus();
    } else {
      definition.unmapped = "reject";
      defaultField.hidden = true;
    }
    clearFindingsAt(unmappedSelect);
    markDirty();
  });
  defaultInput.addEventListener("input", () => {
    definition.unmapped = { default: defaultInput.value.trim() };
    clearFindingsAt(defaultInput);
    markDirty();
  });

  const tbody = h("tbody", {});
  for (const row of rows) tbody.append(codeRow(source, row));
  const addButton = h(
    "button",
    {
      type: "button",
      class: "button secondary",
      "data-action": "add-mapping",
      "data-testid": "add-mapping",
      "data-source": source,
      onclick: () => {
        const row = { id: nextRowId++, code: "", status: "" };
        rows.push(row);
        const tr = codeRow(source, row);
        tbody.append(tr);
        markDirty();
        tr.querySelector("input").focus();
      },
    },
    `Add a ${source} mapping`,
  );
  const removeButton = h(
    "button",
    {
      type: "button",
      class: "button danger-outline",
      "data-testid": "remove-source",
      "data-source": source,
      onclick: async () => {
        const answer = await confirmDialog({ title: `Remove ${source}?`, text: `Remove the source system ${source} and its ${rows.length} mappings from the draft? Events from ${source} would then be refused.`, okText: `Remove ${source}` });
        if (!answer.ok) return;
        model.rows.delete(source);
        delete model.doc.sources[source];
        section.remove();
        markDirty();
        ui.sim.refresh(currentDocument());
        document.getElementById("new-source")?.focus();
      },
    },
    `Remove source system ${source}`,
  );
  const section = h(
    "fieldset",
    { class: "source-editor", "data-source": source, "data-testid": "source-editor", "data-pointer": pointer("sources", source), "data-slot": slotId },
    h("legend", {}, source),
    h("div", { class: "slot", id: slotId }),
    h("div", { class: "row" }, h("div", { class: "field" }, h("label", { for: unmappedId }, "A code without a mapping:"), unmappedSelect), defaultField),
    scroller(
      `${source} mappings`,
      h(
        "table",
        { class: "data edit stack", "data-source": source, "data-pointer": pointer("sources", source, "codes"), lang: dataLanguage(model.doc) },
        h("caption", {}, `${source}: code → portal status`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Code"), h("th", { scope: "col" }, "Portal status"), h("th", { scope: "col" }, "Category"), h("th", { scope: "col" }, sr("Actions")))),
        tbody,
      ),
    ),
    h("div", { class: "actions" }, addButton, removeButton),
  );
  section.dataset.index = String(index);
  return section;
}

function codeRow(source, row) {
  const rows = model.rows.get(source);
  const codeId = uid("code");
  const statusId = uid("status");
  const codeInput = h("input", { id: codeId, type: "text", value: row.code, autocomplete: "off", spellcheck: "false", "data-field": "code" });
  const statusInput = h("input", {
    id: statusId,
    type: "text",
    value: row.status,
    list: "draft-status-names",
    autocomplete: "off",
    "data-field": "status",
    "data-pointer": pointer("sources", source, "codes", row.code),
  });
  const category = h("td", { "data-label": "Category", class: "derived" });
  const tr = h(
    "tr",
    { "data-testid": "draft-mapping", dataset: { source, code: row.code, rowId: row.id } },
    h("td", { "data-label": "Code" }, h("label", { for: codeId, class: "sr-only" }, `${source} code`), codeInput),
    h("td", { "data-label": "Portal status" }, h("label", { for: statusId, class: "sr-only" }, `Portal status for this ${source} code`), statusInput),
    category,
    h(
      "td",
      { class: "row-actions" },
      h(
        "button",
        {
          type: "button",
          class: "button small danger-outline",
          "data-testid": "remove-mapping",
          onclick: () => {
            const position = rows.indexOf(row);
            rows.splice(position, 1);
            const next = tr.nextElementSibling?.classList.contains("finding-row") ? tr.nextElementSibling.nextElementSibling : tr.nextElementSibling;
            if (tr.nextElementSibling?.classList.contains("finding-row")) tr.nextElementSibling.remove();
            tr.remove();
            markDirty();
            (next?.querySelector("input") || tr.closest("fieldset")?.querySelector("button[data-action=add-mapping]") || document.getElementById("draft-validate"))?.focus();
          },
        },
        "Remove",
        sr(` the mapping of ${row.code || "this code"}`),
      ),
    ),
  );
  const showCategory = () => {
    const known = categoryOf(model.doc).get(statusInput.value.trim());
    category.textContent = known || (statusInput.value.trim() ? "(not a portal status)" : "—");
    category.classList.toggle("unknown", !known && Boolean(statusInput.value.trim()));
  };
  showCategory();
  codeInput.addEventListener("input", () => {
    row.code = codeInput.value.trim();
    tr.dataset.code = row.code;
    statusInput.dataset.pointer = pointer("sources", source, "codes", row.code);
    clearFindingsAt(codeInput);
    markDirty();
  });
  statusInput.addEventListener("input", () => {
    row.status = statusInput.value.trim();
    showCategory();
    clearFindingsAt(statusInput);
    markDirty();
  });
  return tr;
}

function renderStatuses() {
  const statuses = model.doc.statuses;
  const tbody = h("tbody", {});
  statuses.forEach((status, index) => tbody.append(statusRow(status, index)));
  replace(
    ui.statuses,
    scroller(
      "Portal statuses",
      h(
        "table",
        { class: "data edit stack", "data-testid": "draft-statuses", lang: dataLanguage(model.doc) },
        h("caption", {}, "Statuses the portal shows, each with its national category"),
        h(
          "thead",
          {},
          h("tr", {}, h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Category"), h("th", { scope: "col" }, "Initial"), h("th", { scope: "col" }, "Final"), h("th", { scope: "col" }, sr("Actions"))),
        ),
        tbody,
      ),
    ),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "button secondary",
          "data-testid": "add-status",
          onclick: () => {
            statuses.push({ name: "", category: "" });
            renderStatuses();
            statusesChanged();
            ui.statuses.querySelector("tbody tr:last-child input")?.focus();
          },
        },
        "Add a status",
      ),
    ),
  );
}

function statusRow(status, index) {
  const ids = { name: uid("sname"), category: uid("scat"), initial: uid("sinit"), final: uid("sfinal") };
  const name = h("input", { id: ids.name, type: "text", value: status.name ?? "", autocomplete: "off", "data-field": "name", "data-pointer": pointer("statuses", index, "name") });
  const category = h("input", { id: ids.category, type: "text", value: status.category ?? "", list: "draft-category-names", autocomplete: "off", "data-field": "category", "data-pointer": pointer("statuses", index, "category") });
  const initial = h("input", { id: ids.initial, type: "checkbox", checked: Boolean(status.initial), "data-field": "initial", "data-pointer": pointer("statuses", index, "initial") });
  const final = h("input", { id: ids.final, type: "checkbox", checked: Boolean(status.final), "data-field": "final", "data-pointer": pointer("statuses", index, "final") });
  const label = () => status.name || `status ${index + 1}`;
  name.addEventListener("input", () => {
    status.name = name.value.trim();
    clearFindingsAt(name);
    statusesChanged();
  });
  category.addEventListener("input", () => {
    status.category = category.value.trim();
    clearFindingsAt(category);
    refreshDerivedCategories();
    markDirty();
  });
  for (const [box, key] of [
    [initial, "initial"],
    [final, "final"],
  ]) {
    box.addEventListener("change", () => {
      if (box.checked) status[key] = true;
      else delete status[key];
      clearFindingsAt(box);
      markDirty();
    });
  }
  return h(
    "tr",
    { "data-testid": "draft-status", "data-pointer": pointer("statuses", index), dataset: { index: String(index), status: status.name ?? "" } },
    h("td", { "data-label": "Status" }, h("label", { for: ids.name, class: "sr-only" }, `Name of status ${index + 1}`), name),
    h("td", { "data-label": "Category" }, h("label", { for: ids.category, class: "sr-only" }, `Category of status ${index + 1}`), category),
    h("td", { "data-label": "Initial", class: "check" }, initial, h("label", { for: ids.initial }, sr(`Status ${index + 1} is `), "initial")),
    h("td", { "data-label": "Final", class: "check" }, final, h("label", { for: ids.final }, sr(`Status ${index + 1} is `), "final")),
    h(
      "td",
      { class: "row-actions" },
      h(
        "button",
        {
          type: "button",
          class: "button small danger-outline",
          "data-testid": "remove-status",
          onclick: () => {
            model.doc.statuses.splice(index, 1);
            renderStatuses();
            statusesChanged();
            (ui.statuses.querySelectorAll("tbody tr")[index]?.querySelector("input") || ui.statuses.querySelector("[data-testid=add-status]")).focus();
          },
        },
        "Remove",
        sr(` status ${label()}`),
      ),
    ),
  );
}

/** Status names feed the datalists, the move editor and the derived categories. */
function statusesChanged() {
  refreshStatusList();
  renderTransitions();
  refreshDerivedCategories();
  ui.sim.refresh(currentDocument());
  markDirty();
}

/** The category column of the mapping rows follows the statuses. */
function refreshDerivedCategories() {
  const categories = categoryOf(model.doc);
  for (const row of ui.form.querySelectorAll("tr[data-testid=draft-mapping]")) {
    const value = row.querySelector("input[data-field=status]").value.trim();
    const cell = row.querySelector("td.derived");
    const known = categories.get(value);
    cell.textContent = known || (value ? "(not a portal status)" : "—");
    cell.classList.toggle("unknown", !known && Boolean(value));
  }
}

function renderTransitions() {
  const transitions = model.doc.transitions;
  const defaultId = uid("tdefault");
  const select = h(
    "select",
    { id: defaultId, "data-pointer": pointer("transitions", "default"), "data-testid": "transitions-default" },
    h("option", { value: "allow", selected: transitions.default !== "deny" }, "allowed"),
    h("option", { value: "deny", selected: transitions.default === "deny" }, "denied"),
  );
  select.addEventListener("change", () => {
    transitions.default = select.value;
    clearFindingsAt(select);
    markDirty();
  });
  const list = h("div", { class: "transition-rules" });
  transitions.rules.forEach((rule, index) => list.append(ruleEditor(rule, index)));
  replace(
    ui.transitions,
    h("div", { class: "field" }, h("label", { for: defaultId }, "A move from a status without a rule is"), select),
    h("p", { class: "help" }, "A status with a rule may move only to the statuses it lists; a rule that lists none makes the status final. Staying on a status is not a move."),
    list,
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "button secondary",
          "data-testid": "add-rule",
          onclick: () => {
            transitions.rules.push({ from: "", to: [] });
            renderTransitions();
            markDirty();
            ui.transitions.querySelector(".transition-rule:last-child input")?.focus();
          },
        },
        "Add a rule",
      ),
    ),
  );
}

function ruleEditor(rule, index) {
  if (!Array.isArray(rule.to)) rule.to = [];
  const fromId = uid("from");
  const slotId = uid("slot");
  const from = h("input", { id: fromId, type: "text", value: rule.from ?? "", list: "draft-status-names", autocomplete: "off", "data-field": "from", "data-pointer": pointer("transitions", "rules", index, "from") });
  const names = statusNames(model.doc);
  const options = [...names, ...rule.to.filter((name) => !names.includes(name))];
  const finalNote = h("p", { class: "help final-note" });
  const boxes = options.map((name) => {
    const id = uid("to");
    const box = h("input", { id, type: "checkbox", value: name, checked: rule.to.includes(name), "data-slot": slotId, dataset: { target: name } });
    box.addEventListener("change", () => {
      if (box.checked && !rule.to.includes(name)) rule.to.push(name);
      if (!box.checked) rule.to = rule.to.filter((target) => target !== name);
      clearFindingsAt(box);
      updateBoxes();
      markDirty();
    });
    const unknown = !names.includes(name);
    return h("span", { class: `check-option${unknown ? " unknown" : ""}` }, box, h("label", { for: id }, name, unknown ? sr(" (not a portal status)") : null));
  });
  function updateBoxes() {
    for (const span of boxes) {
      const box = span.querySelector("input");
      const position = rule.to.indexOf(box.value);
      if (position >= 0) box.dataset.pointer = pointer("transitions", "rules", index, "to", position);
      else delete box.dataset.pointer;
      // Staying on a status is not a move: its own box is only there to be unticked.
      const own = box.value === rule.from && !box.checked;
      box.disabled = own;
      span.classList.toggle("own", own);
    }
    finalNote.textContent = rule.to.length === 0 ? `No move is allowed: ${rule.from || "this status"} is final.` : "";
  }
  updateBoxes();
  from.addEventListener("input", () => {
    rule.from = from.value.trim();
    fieldset.dataset.from = rule.from;
    clearFindingsAt(from);
    updateBoxes();
    markDirty();
  });
  const fieldset = h(
    "fieldset",
    { class: "transition-rule", "data-testid": "draft-rule", "data-pointer": pointer("transitions", "rules", index), "data-slot": slotId, dataset: { from: rule.from ?? "" } },
    h("legend", {}, `Rule ${index + 1}`),
    h("div", { class: "slot", id: slotId }),
    h("div", { class: "field" }, h("label", { for: fromId }, "A case in status"), from),
    h(
      "fieldset",
      { class: "targets", "data-pointer": pointer("transitions", "rules", index, "to"), "data-slot": slotId },
      h("legend", {}, "may move only to"),
      h("div", { class: "check-options" }, boxes),
      finalNote,
    ),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          class: "button small danger-outline",
          "data-testid": "remove-rule",
          onclick: () => {
            model.doc.transitions.rules.splice(index, 1);
            renderTransitions();
            markDirty();
            (ui.transitions.querySelectorAll(".transition-rule")[index]?.querySelector("input") || ui.transitions.querySelector("[data-testid=add-rule]")).focus();
          },
        },
        `Remove rule ${index + 1}`,
      ),
    ),
  );
  return fieldset;
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(renderPreview, 200);
}

function renderPreview() {
  if (!ui.preview) return;
  replace(ui.preview, transitionMatrixView(currentDocument(), "draft-matrix"));
}

// ---- JSON view -------------------------------------------------------------------------------

function switchView(view) {
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
    model = { ...makeModel(parsed, keep.base, null), ...keep, dirty: true, view: model.view };
    renderForm();
    renderStatus();
    renderPreview();
    ui.sim.refresh(currentDocument());
  }
  return true;
}

/** Makes sure the form holds what the person sees (the JSON view wins while it is open). */
function syncView() {
  if (model.view !== "json") return true;
  if (!applyJSON()) return false;
  switchView("form");
  return true;
}

// ---- findings --------------------------------------------------------------------------------

function clearFindings() {
  for (const node of root.querySelectorAll(".finding, tr.finding-row")) node.remove();
  for (const element of root.querySelectorAll("[aria-invalid]")) unmarkInvalid(element);
}

function clearFindingsAt(element) {
  const ids = (element.getAttribute("aria-describedby") || "").split(/\s+/).filter((id) => id.startsWith("finding-"));
  for (const id of ids) document.getElementById(id)?.remove();
  unmarkInvalid(element);
}

function unmarkInvalid(element) {
  element.removeAttribute("aria-invalid");
  const rest = (element.getAttribute("aria-describedby") || "").split(/\s+/).filter((id) => id && !id.startsWith("finding-"));
  if (rest.length) element.setAttribute("aria-describedby", rest.join(" "));
  else element.removeAttribute("aria-describedby");
}

/** `transitions.rules[0].to[1]` → `/transitions/rules/0/to/1` (for findings that carry no pointer). */
function pointerFromPath(path) {
  if (!path) return "";
  return pointer(...path.replace(/\[(\d+)\]/g, ".$1").split(".").filter(Boolean));
}

/** The form element a finding concerns: the exact field, else its closest enclosing part. */
function locate(findingPointer) {
  const segments = pointerSegments(findingPointer);
  for (let length = segments.length; length >= 1; length--) {
    const candidate = pointer(...segments.slice(0, length));
    const element = ui.form.querySelector(`[data-pointer="${CSS.escape(candidate)}"]`);
    if (element) return element;
  }
  return null;
}

function suggestionFor(finding) {
  const quoted = /'([^']+)'/.exec(finding.message || "")?.[1];
  if (!quoted) return null;
  if (finding.code === "UNKNOWN_STATUS") return nearest(quoted, statusNames(model.doc));
  if (finding.code === "UNKNOWN_CATEGORY") return nearest(quoted, model.doc.categories || []);
  return null;
}

function findingNode(finding, severity, element) {
  const suggestion = suggestionFor(finding);
  const fixable = suggestion && element && element.matches("input[type=text]");
  return h(
    "div",
    { class: `finding ${severity}`, id: uid("finding"), "data-testid": "finding", dataset: { path: finding.path || "", code: finding.code || "", severity } },
    h("span", { class: "finding-label" }, severity === "error" ? "Error:" : "Warning:"),
    " ",
    finding.message,
    suggestion ? `${/[.!?]$/.test(finding.message || "") ? "" : "."} Did you mean “${suggestion}”?` : "",
    fixable
      ? h(
          "button",
          {
            type: "button",
            class: "link-button",
            "data-testid": "apply-suggestion",
            onclick: () => {
              element.value = suggestion;
              element.dispatchEvent(new Event("input"));
              element.focus();
            },
          },
          `Use “${suggestion}”`,
        )
      : null,
  );
}

function attach(element, finding, severity) {
  const node = findingNode(finding, severity, element);
  if (element.matches("input, select, textarea")) {
    if (severity === "error") element.setAttribute("aria-invalid", "true");
    element.setAttribute("aria-describedby", [element.getAttribute("aria-describedby"), node.id].filter(Boolean).join(" "));
    const host = element.dataset.slot ? document.getElementById(element.dataset.slot) : element.closest("td, .field") || element.parentElement;
    host.append(node);
  } else if (element.tagName === "TR") {
    let row = element.nextElementSibling;
    if (!row || !row.classList.contains("finding-row")) {
      row = h("tr", { class: "finding-row" }, h("td", { colspan: String(element.cells.length) }));
      element.after(row);
    }
    row.cells[0].append(node);
  } else {
    const host = element.dataset.slot ? document.getElementById(element.dataset.slot) : element;
    host.append(node);
  }
}

/** Puts every finding next to its field; returns those that have no field in the form. */
function placeFindings(findings, severity) {
  const unplaced = [];
  for (const finding of findings) {
    const element = locate(finding.pointer || pointerFromPath(finding.path));
    if (element) attach(element, finding, severity);
    else unplaced.push({ ...finding, severity });
  }
  return unplaced;
}

/** Checks the form can become a document: codes present and unique per source system. */
function localFindings() {
  const findings = [];
  for (const [source, rows] of model.rows) {
    const seen = new Map();
    for (const row of rows) {
      const tr = ui.form.querySelector(`tr[data-row-id="${row.id}"]`);
      const input = tr?.querySelector("input[data-field=code]");
      if (!row.code) findings.push({ input, message: `Enter the ${source} code, or remove the row.` });
      else if (seen.has(row.code)) findings.push({ input, message: `The code ${row.code} appears twice in ${source}; a code maps to one status.` });
      seen.set(row.code, true);
    }
  }
  for (const finding of findings) if (finding.input) attach(finding.input, { message: finding.message, code: "LOCAL", path: "" }, "error");
  return findings.length;
}

function firstInvalid() {
  return ui.form.querySelector("[aria-invalid=true]") || root.querySelector(".finding");
}

function focusFirstInvalid() {
  const element = firstInvalid();
  if (!element) return;
  if (ui.form.hidden) switchView("form");
  element.scrollIntoView({ block: "center" });
  element.focus({ preventScroll: true });
}

function summarize(errors, warnings, tests) {
  const failed = tests.filter((t) => !t.passed).length;
  const parts = [];
  parts.push(errors ? `${errors} error${errors === 1 ? "" : "s"}` : "no errors");
  parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  if (tests.length) parts.push(failed ? `${failed} of ${tests.length} rule tests fail` : `all ${tests.length} rule tests pass`);
  replace(
    ui.summary,
    h(
      "p",
      { class: errors ? "bad" : "good" },
      `Validation: ${parts.join(", ")}.`,
      errors
        ? h("button", { type: "button", class: "link-button", "data-testid": "goto-first-error", onclick: focusFirstInvalid }, "Go to the first error")
        : null,
    ),
  );
}

// ---- actions ---------------------------------------------------------------------------------

function prepare() {
  replace(ui.actionMessage);
  if (!syncView()) return false;
  clearFindings();
  const local = localFindings();
  if (local) {
    replace(ui.actionMessage, message("error", `${local} field${local === 1 ? " needs" : "s need"} fixing first (marked below).`));
    replace(ui.summary);
    focusFirstInvalid();
    return false;
  }
  return true;
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

function showReport(report) {
  const unplaced = [...placeFindings(report.errors || [], "error"), ...placeFindings(report.warnings || [], "warning")];
  const tests = report.tests || [];
  summarize((report.errors || []).length, (report.warnings || []).length, tests);
  const impact = report.impact || { casesChangingStatus: 0, byCode: [] };
  ui.results.hidden = false;
  replace(
    ui.results,
    h("h2", { id: "results-title" }, "Validation result"),
    report.valid
      ? message("success", h("span", { "data-testid": "validation-verdict" }, "The draft is valid: it can be published."))
      : message("error", h("span", { "data-testid": "validation-verdict" }, `The draft cannot be published yet: ${(report.errors || []).length} error(s), shown next to the fields they concern.`)),
    h("h3", {}, "Impact on existing cases"),
    h("p", { class: "impact", "data-testid": "impact-sentence", id: "impact-sentence" }, impactSentence(impact)),
    impact.byCode?.length
      ? scroller(
          "Impact by code",
          h(
            "table",
            { class: "data stack", "data-testid": "impact-table", lang: dataLanguage(model.doc) },
            h("caption", {}, "Cases that would show another status"),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Source"), h("th", { scope: "col" }, "Code"), h("th", { scope: "col" }, "Cases"), h("th", { scope: "col" }, "Now"), h("th", { scope: "col" }, "After publishing"))),
            h(
              "tbody",
              {},
              impact.byCode.map((entry) =>
                h(
                  "tr",
                  {},
                  h("td", { "data-label": "Source" }, entry.sourceSystem),
                  h("td", { "data-label": "Code" }, h("code", {}, entry.code)),
                  h("td", { "data-label": "Cases", class: "number" }, String(entry.cases)),
                  h("td", { "data-label": "Now" }, entry.from),
                  h("td", { "data-label": "After publishing" }, entry.to),
                ),
              ),
            ),
          ),
        )
      : null,
    unplaced.length
      ? h(
          "div",
          { class: "general-findings" },
          h("h3", {}, "Other findings"),
          h("p", { class: "help" }, "These concern parts of the document the form does not show (edit them in the JSON view)."),
          h(
            "ul",
            { "data-testid": "general-findings", id: "general-findings" },
            unplaced.map((finding) =>
              h(
                "li",
                { class: `finding ${finding.severity}`, "data-testid": "finding", dataset: { path: finding.path || "", code: finding.code || "", severity: finding.severity } },
                h("span", { class: "finding-label" }, finding.severity === "error" ? "Error" : "Warning"),
                " at ",
                h("code", {}, finding.path || finding.pointer || "the document"),
                `: ${finding.message}`,
              ),
            ),
          ),
        )
      : null,
    tests.length
      ? h(
          "details",
          { class: "tests", open: tests.some((test) => !test.passed) },
          h("summary", { "data-testid": "tests-summary" }, testsSummary(tests)),
          scroller(
            "Rule tests",
            h(
              "table",
              { class: "data stack", "data-testid": "tests-table", lang: dataLanguage(model.doc) },
              h("caption", {}, "The document's own tests, run against the draft"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Test"), h("th", { scope: "col" }, "Expected"), h("th", { scope: "col" }, "Actual"), h("th", { scope: "col" }, "Result"))),
              h(
                "tbody",
                {},
                tests.map((test) =>
                  h(
                    "tr",
                    { dataset: { passed: String(test.passed), index: String(test.index) } },
                    h("th", { scope: "row", "data-label": "Test" }, test.label),
                    h("td", { "data-label": "Expected" }, test.expected),
                    h("td", { "data-label": "Actual" }, test.actual),
                    h("td", { "data-label": "Result", class: test.passed ? "pass" : "fail" }, test.passed ? "✓ passes" : `✗ fails${test.message ? ": " + test.message : ""}`),
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "help" }, "The document has no rule tests (or they could not run because of the errors)."),
  );
}

function testsSummary(tests) {
  const failed = tests.filter((test) => !test.passed).length;
  return failed ? `Rule tests: ${failed} of ${tests.length} fail` : `Rule tests: all ${tests.length} pass`;
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
  model = { ...makeModel(active.document, active.version, null), ...kept, dirty: true };
  render();
  replace(ui.actionMessage, message("info", `The draft now holds version ${active.version}. Save it to keep it on the server.`));
  document.getElementById("draft-validate").focus();
}

function publishPanel() {
  const comment = h("textarea", { id: "publish-comment", "data-testid": "publish-comment", rows: "2", maxlength: "2000" });
  const button = h("button", { type: "submit", class: "button primary", id: "draft-publish", "data-testid": "draft-publish" }, "Publish");
  ui.publishResult = h("div", { id: "publish-result", "data-testid": "publish-result", "aria-live": "polite" });
  return h(
    "section",
    { class: "panel publish", "aria-labelledby": "publish-title" },
    h("h2", { id: "publish-title" }, "Publish"),
    h("p", { class: "help" }, "Publishing checks the draft (validation and rule tests) and makes it the active rules for every server within seconds. Cases whose status changes show the new one at once."),
    h(
      "form",
      {
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          if (!comment.value.trim()) {
            replace(ui.publishResult, message("error", "Write a comment: what changed and why. It is kept in the history auditors read."));
            comment.setAttribute("aria-invalid", "true");
            comment.focus();
            return;
          }
          comment.removeAttribute("aria-invalid");
          if (!prepare()) return;
          await busy(button, () => publish(comment), "Publishing…");
        },
      },
      h("div", { class: "field" }, h("label", { for: "publish-comment" }, "Comment (what changed and why)"), comment),
      button,
    ),
    ui.publishResult,
  );
}

async function publish(comment) {
  const document = currentDocument();
  const base = model.base;
  try {
    const { version } = await api("POST", "/admin/v1/rules/publish", { body: { baseVersion: base, comment: comment.value.trim(), document } });
    model.base = version;
    model.inferredBase = false;
    comment.value = "";
    replace(ui.publishResult, message("success", h("span", { "data-testid": "publish-success" }, `Published version ${version}. It is the active release now.`)));
    notify("success", `Version ${version} of the rules is active.`);
    try {
      await refreshActive();
      // Keep the shared draft equal to what is now active, so nobody reopens a stale one.
      const saved = await api("PUT", "/admin/v1/rules/draft", { body: { document } });
      model.savedAt = saved.updatedAt;
      model.savedBy = saved.updatedBy;
      model.dirty = false;
      rememberBase(saved.updatedAt);
    } catch {
      /* the publish itself succeeded; the status line shows the draft as unsaved */
    }
    renderStatus();
  } catch (error) {
    if (error.code === "VERSION_CONFLICT") {
      const activeVersion = error.problem.activeVersion ?? "a newer version";
      try {
        await refreshActive();
      } catch {
        /* the message below still holds */
      }
      replace(
        ui.publishResult,
        message(
          "error",
          h(
            "p",
            { "data-testid": "version-conflict" },
            `Nothing was published: someone else published version ${activeVersion} while you were editing (your draft was started from version ${base}). Reload the active release and apply your changes to it again, or compare the versions and publish your draft over version ${activeVersion} on purpose.`,
          ),
          typeof activeVersion === "number" ? conflictActions(base, activeVersion) : null,
        ),
      );
      renderStatus();
    } else if (error.code === "RULES_INVALID") {
      const findings = error.problem.errors || [];
      const unplaced = placeFindings(findings, "error");
      summarize(findings.length, 0, []);
      replace(
        ui.publishResult,
        message(
          "error",
          h("p", { "data-testid": "publish-invalid" }, `Nothing was published: the draft has ${findings.length} error(s), shown next to the fields they concern.`),
          unplaced.length ? h("ul", {}, unplaced.map((f) => h("li", { class: "finding error", "data-testid": "finding", dataset: { path: f.path || "" } }, h("code", {}, f.path || f.pointer), `: ${f.message}`))) : null,
        ),
      );
    } else {
      replace(ui.publishResult, message("error", describe(error)));
    }
  }
}
