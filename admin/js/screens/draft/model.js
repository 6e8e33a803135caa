// The draft being edited, shared by the parts of the draft screen: the document, the rows of the
// mapping editors, the version it is based on, and the elements the parts draw into.

import { api } from "../../api.js";
import { refreshActive, state } from "../../context.js";
import { clone, sameJSON } from "../../rules.js";

/** The draft being edited; survives switching screens, not signing out. */
export let model = null;
/** The screen's container. */
export let root = null;
/** The elements of the screen the parts fill (status line, form, results, …). */
export let ui = {};
let nextRowId = 1;

/**
 * What the screen registers so that a part can ask for a redraw without importing the screen
 * (the parts import this module, never each other in a circle).
 */
export const hooks = {
  /** An edit was made: redraw the status line and the previews. */
  changed: () => {},
  /** The model was replaced (JSON taken in): redraw the form and everything derived from it. */
  replaced: () => {},
  /** The status line (version, saved, unsaved) and the base-version warning. */
  renderStatus: () => {},
  /** Replace the draft with the active release, after asking. */
  startAgain: async () => {},
};

/** Replaces the model (loading, starting again, taking in JSON). */
export function setModel(next) {
  model = next;
}

/** Binds the screen to its container and starts with no elements. */
export function setRoot(container) {
  root = container;
  ui = {};
}

/** Forgets everything (sign-out). */
export function forget() {
  model = null;
  root = null;
  ui = {};
}

/** A new mapping row's id (rows are told apart by it while their code is being typed). */
export function newRowId() {
  return nextRowId++;
}

function baseItem() {
  return `statusbro.draftBase.${state.tenant}`;
}

/** Notes, for this tab, which version the saved draft was based on. */
export function rememberBase(updatedAt) {
  sessionStorage.setItem(baseItem(), JSON.stringify({ baseVersion: model.base, updatedAt }));
}

function recalledBase() {
  try {
    return JSON.parse(sessionStorage.getItem(baseItem()) || "null");
  } catch {
    return null;
  }
}

/** Loads the saved draft (or starts one from the active release). */
export async function load() {
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

/** A model over a copy of `document`, with one editable row per code mapping. */
export function makeModel(document, base, saved) {
  const doc = clone(document) || {};
  if (!doc.sources || typeof doc.sources !== "object" || Array.isArray(doc.sources)) doc.sources = {};
  if (!Array.isArray(doc.statuses)) doc.statuses = [];
  if (!doc.transitions || typeof doc.transitions !== "object") doc.transitions = { default: "allow", rules: [] };
  if (!Array.isArray(doc.transitions.rules)) doc.transitions.rules = [];
  const rows = new Map();
  for (const [source, definition] of Object.entries(doc.sources)) {
    rows.set(source, Object.entries(definition?.codes || {}).map(([code, status]) => ({ id: newRowId(), code, status: String(status ?? "") })));
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
export function currentDocument() {
  const doc = clone(model.doc);
  for (const [source, rows] of model.rows) {
    doc.sources[source] = doc.sources[source] || {};
    doc.sources[source].codes = Object.fromEntries(rows.map((row) => [row.code, row.status]));
  }
  return doc;
}

/** Marks the draft changed since it was saved. */
export function markDirty() {
  model.dirty = true;
  hooks.changed();
}
