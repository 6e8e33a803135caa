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
/** The server's compiled moves for the last document it answered about (loaded, saved, validated). */
let answered = null;

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
  answered = null;
}

/** Keeps the server's `moves` for `document` (null: the server could not read it), so that the preview need not ask again. */
export function rememberMoves(document, moves) {
  answered = { document: clone(document), moves: moves ?? null };
}

/** The server's answer {moves} for exactly this document, from the last answer or the active release; null when there is none. */
export function knownMoves(document) {
  const active = state.active && { document: state.active.document, moves: state.active.moves };
  return [answered, active].find((known) => known && sameJSON(known.document, document)) || null;
}

/** A new mapping row's id (rows are told apart by it while their code is being typed). */
export function newRowId() {
  return nextRowId++;
}

/**
 * Loads the saved draft with the version it is based on and its moves, as the server answers them
 * (or starts one from the active release).
 */
export async function load() {
  let saved = null;
  const [active] = await Promise.all([
    refreshActive(),
    api("GET", "/admin/v1/rules/draft").then(
      (draft) => (saved = draft),
      (error) => {
        if (error.status !== 404) throw error;
      },
    ),
  ]);
  if (!saved) {
    model = makeModel(active.document, active.version, null);
    return;
  }
  model = makeModel(saved.document, saved.baseVersion, saved);
  rememberMoves(saved.document, saved.moves);
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
