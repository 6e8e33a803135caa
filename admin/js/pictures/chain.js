// The mapping chain of one source system as a picture: raw codes → portal statuses → national
// categories, drawn as SVG by the page itself. Codes seen in pending dead letters without a
// mapping, and the rows a draft changes, are marked in colour AND in words (a badge), and listed
// in text under the picture for screen readers and for anyone who cannot tell the colours apart.

import { h } from "../dom.js";
import { categoryOf, mapCode, statusNames } from "../rules.js";
import { fit, px, s, textWidth } from "./svg.js";

const FONT = 13;
const ROW = 26;
const NODE = 20;
const PAD = 8;
const GAP = 96;
const HEAD = 30;
const MAX_LABEL = 220;
const NO_MAPPING = "(no mapping: refused)";

const BADGE = {
  unmapped: (n) => `${n} parked`,
  fixed: (n) => `${n} to replay`,
  added: () => "new",
  changed: () => "changed",
  removed: () => "removed",
};

/**
 * A <figure> with the chain of `source` in `document`.
 * `parked`: [{code, count}] of pending UNMAPPED_STATUS dead letters of this source;
 * `changes`: Map(code → {change, old, new}) a draft makes (null on the active release);
 * `changedCategories`: Map(status → {old, new}).
 */
export function mappingChain(document, source, { parked = [], changes = null, changedCategories = new Map(), index = 0, lang = null } = {}) {
  const definition = document?.sources?.[source] || {};
  const codes = definition.codes || {};
  const statuses = statusNames(document);
  const categories = categoryOf(document);
  const rank = new Map(statuses.map((name, i) => [name, i]));
  const waiting = new Map(parked.map((entry) => [entry.code, entry.count]));

  // The rows of the code column: every code of the table, codes the draft removes, and codes of parked messages.
  const rows = Object.entries(codes).map(([code, status], order) => ({ code, status, order, state: "mapped" }));
  for (const row of rows) {
    const change = changes?.get(row.code);
    if (change) row.state = change.change;
    if (waiting.has(row.code)) row.state = "fixed";
  }
  for (const [code, change] of changes || []) {
    if (change.change === "removed") rows.push({ code, status: change.old, order: rows.length, state: "removed" });
  }
  for (const [code] of waiting) {
    if (Object.prototype.hasOwnProperty.call(codes, code)) continue;
    const fallback = mapCode(document, source, code);
    rows.push({ code, status: fallback ? fallback.status : NO_MAPPING, order: rows.length, state: "unmapped", viaDefault: Boolean(fallback) });
  }
  const statusRank = (name) => (name === NO_MAPPING ? Infinity : (rank.get(name) ?? statuses.length));
  rows.sort((a, b) => statusRank(a.status) - statusRank(b.status) || a.order - b.order);

  // The status column: every status of the rules, then names the codes use that are not statuses, then "refused".
  const statusColumn = [...statuses];
  for (const row of rows) if (!statusColumn.includes(row.status) && row.status !== NO_MAPPING) statusColumn.push(row.status);
  if (rows.some((row) => row.status === NO_MAPPING)) statusColumn.push(NO_MAPPING);
  const used = new Set(rows.filter((row) => row.state !== "removed").map((row) => row.status));
  const defaultStatus = typeof definition.unmapped === "object" ? definition.unmapped?.default : null;
  if (defaultStatus) used.add(defaultStatus);

  // The category column: the categories of the statuses, in the document's order.
  const categoryColumn = [];
  for (const name of document?.categories || []) if ([...categories.values()].includes(name)) categoryColumn.push(name);
  for (const name of categories.values()) if (name && !categoryColumn.includes(name)) categoryColumn.push(name);

  // Widths from the longest label of each column.
  const label = (text) => Math.min(MAX_LABEL, textWidth(text, FONT));
  const badgeWidth = (row) => (BADGE[row.state] ? textWidth(badgeText(row), 11, 600) + 14 : 0);
  const codeWidth = Math.max(90, ...rows.map((row) => label(row.code) + badgeWidth(row))) + 2 * PAD;
  const statusWidth = Math.max(110, ...statusColumn.map(label)) + 2 * PAD;
  const categoryWidth = Math.max(110, ...categoryColumn.map(label)) + 2 * PAD;
  const x = { code: 1, status: 1 + codeWidth + GAP, category: 1 + codeWidth + GAP + statusWidth + GAP };
  const width = x.category + categoryWidth + 1;

  function badgeText(row) {
    return BADGE[row.state]?.(waiting.get(row.code)) || "";
  }

  // Heights: codes one per row; statuses beside their codes; categories beside their statuses.
  const codeY = new Map(rows.map((row, i) => [row, HEAD + i * ROW]));
  const statusY = spread(
    statusColumn.map((name) => average(rows.filter((row) => row.status === name).map((row) => codeY.get(row)))),
    Math.max(rows.length, statusColumn.length),
  );
  const statusAt = new Map(statusColumn.map((name, i) => [name, statusY[i]]));
  // Categories go beside the statuses that lead to them (fewest crossings), not in document order.
  const wantedCategoryY = new Map(
    categoryColumn.map((name) => [name, average(statusColumn.filter((status) => categories.get(status) === name).map((status) => statusAt.get(status)))]),
  );
  categoryColumn.sort((a, b) => (wantedCategoryY.get(a) || 0) - (wantedCategoryY.get(b) || 0));
  const categoryY = spread(
    categoryColumn.map((name) => wantedCategoryY.get(name)),
    Math.max(rows.length, statusColumn.length, categoryColumn.length),
  );
  const categoryAt = new Map(categoryColumn.map((name, i) => [name, categoryY[i]]));
  const height = Math.max(HEAD + ROW, ...statusY.map((y) => y + ROW), ...categoryY.map((y) => y + ROW), HEAD + rows.length * ROW) + 2;

  const edges = s("g", { class: "chain-edges" });
  const nodes = s("g", { class: "chain-nodes" });
  const middle = NODE / 2;
  const curve = (x1, y1, x2, y2) => `M ${px(x1)} ${px(y1)} C ${px(x1 + GAP / 2)} ${px(y1)}, ${px(x2 - GAP / 2)} ${px(y2)}, ${px(x2)} ${px(y2)}`;

  for (const row of rows) {
    const y = codeY.get(row);
    const state = row.state === "unmapped" && row.viaDefault ? "unmapped default" : row.state;
    const target = statusAt.get(row.status);
    edges.append(
      s("path", {
        class: `chain-edge code-edge state-${row.state}`,
        d: curve(x.code + codeWidth, y + middle, x.status, target + middle),
        dataset: { source, code: row.code, to: row.status },
      }),
    );
    const title = codeTitle(source, row, waiting.get(row.code), changes?.get(row.code));
    nodes.append(
      s(
        "g",
        { class: `chain-node chain-code state-${state.replace(" ", " state-")}`, dataset: { code: row.code, status: row.status, state: row.state, parked: waiting.get(row.code) } },
        s("title", {}, title),
        s("rect", { x: x.code, y, width: codeWidth, height: NODE, rx: 4 }),
        s("text", { x: x.code + PAD, y: y + 14, class: "chain-label" }, fit(row.code, codeWidth - 2 * PAD - badgeWidth(row), FONT)),
        BADGE[row.state] ? badge(x.code + codeWidth - PAD - badgeWidth(row) + 6, y + 3, badgeText(row), row.state) : null,
      ),
    );
  }
  for (const name of statusColumn) {
    const y = statusAt.get(name);
    const category = categories.get(name);
    const refused = name === NO_MAPPING;
    const unknown = !refused && !rank.has(name);
    const categoryChange = changedCategories.get(name);
    if (category && categoryAt.has(category)) {
      edges.append(
        s("path", {
          class: `chain-edge status-edge${used.has(name) ? "" : " unused"}${categoryChange ? " state-changed" : ""}`,
          d: curve(x.status + statusWidth, y + middle, x.category, categoryAt.get(category) + middle),
          dataset: { status: name, to: category },
        }),
      );
    }
    const kind = refused ? "refused" : unknown ? "unknown" : used.has(name) ? "used" : "unused";
    nodes.append(
      s(
        "g",
        { class: `chain-node chain-status ${kind}${categoryChange ? " state-changed" : ""}`, dataset: { status: name, category: category || "", kind } },
        s("title", {}, statusTitle(name, category, kind, name === defaultStatus, categoryChange)),
        s("rect", { x: x.status, y, width: statusWidth, height: NODE, rx: 10 }),
        s("text", { x: x.status + PAD, y: y + 14, class: "chain-label" }, fit(name, statusWidth - 2 * PAD, FONT)),
      ),
    );
  }
  for (const name of categoryColumn) {
    const y = categoryAt.get(name);
    nodes.append(
      s(
        "g",
        { class: "chain-node chain-category", dataset: { category: name } },
        s("title", {}, `National category ${name}`),
        s("rect", { x: x.category, y, width: categoryWidth, height: NODE, rx: 2 }),
        s("text", { x: x.category + PAD, y: y + 14, class: "chain-label" }, fit(name, categoryWidth - 2 * PAD, FONT)),
      ),
    );
  }

  const titleId = `chain-title-${index}`;
  const descId = `chain-desc-${index}`;
  const summary = describeChain(source, rows, statusColumn, categoryColumn, waiting);
  const picture = s(
    "svg",
    {
      class: "chain",
      role: "img",
      "aria-labelledby": `${titleId} ${descId}`,
      viewBox: `0 0 ${px(width)} ${px(height)}`,
      width: px(width),
      height: px(height),
      "data-testid": "mapping-chain",
      "data-source": source,
      lang,
    },
    s("title", { id: titleId }, `${source}: codes → portal statuses → national categories`),
    s("desc", { id: descId }, summary),
    s(
      "g",
      { class: "chain-heads", "aria-hidden": "true" },
      s("text", { x: x.code, y: 16 }, `${source} code`),
      s("text", { x: x.status, y: 16 }, "Portal status"),
      s("text", { x: x.category, y: 16 }, "National category"),
    ),
    edges,
    nodes,
  );
  const highlighted = rows.filter((row) => row.state !== "mapped");
  return h(
    "figure",
    { class: "picture chain-figure", "data-source": source },
    h("div", { class: "picture-scroll", role: "region", tabindex: "0", "aria-label": `${source} mapping chain (scrolls sideways in a narrow window)` }, picture),
    h("figcaption", {}, summary),
    highlighted.length ? highlightList(source, highlighted, waiting, changes, lang) : null,
    legend(rows),
  );
}

function badge(x, y, text, state) {
  const width = textWidth(text, 11, 600) + 8;
  return s(
    "g",
    { class: `chain-badge state-${state}`, "aria-hidden": "true" },
    s("rect", { x, y, width, height: NODE - 6, rx: 7 }),
    s("text", { x: x + 4, y: y + 10.5 }, text),
  );
}

/** Places items near the positions they want, in order, at least a row apart, within `rows` rows (or as many as there are items). */
function spread(wanted, rows) {
  const bottom = HEAD + Math.max(rows - 1, wanted.length - 1, 0) * ROW;
  const y = [];
  let last = HEAD - ROW;
  for (const want of wanted) {
    // An item nothing points at (NaN) goes right after the one before it.
    last = Math.max(Number.isNaN(want) ? last + ROW : want, last + ROW);
    y.push(last);
  }
  // Pushed past the bottom: move back up as far as needed, keeping the order.
  let next = bottom + ROW;
  for (let i = y.length - 1; i >= 0; i--) {
    y[i] = Math.min(y[i], next - ROW);
    next = y[i];
  }
  return y;
}

function average(values) {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

function codeTitle(source, row, count, change) {
  const parts = [`${source} ${row.code} → ${row.status}`];
  if (row.state === "unmapped") parts.push(row.viaDefault ? `${count} parked message(s); the source's default status would now apply` : `no mapping: ${count} message(s) parked as dead letters`);
  if (row.state === "fixed") parts.push(`mapped now; ${count} parked message(s) wait for a replay`);
  if (change?.change === "added") parts.push("added by the draft");
  if (change?.change === "changed") parts.push(`the draft changes it (was ${change.old})`);
  if (change?.change === "removed") parts.push("the draft removes it");
  return parts.join(" · ");
}

function statusTitle(name, category, kind, isDefault, categoryChange) {
  if (kind === "refused") return "Codes without a mapping are refused and parked as dead letters";
  const parts = [`Portal status ${name}`];
  if (category) parts.push(`category ${category}`);
  if (categoryChange) parts.push(`the draft changes its category (was ${categoryChange.old})`);
  if (kind === "unused") parts.push("no code of this source shows it");
  if (kind === "unknown") parts.push("not a portal status of these rules");
  if (isDefault) parts.push("the default for codes without a mapping");
  return parts.join(" · ");
}

function describeChain(source, rows, statusColumn, categoryColumn, waiting) {
  const mapped = rows.filter((row) => row.state !== "unmapped" && row.state !== "removed").length;
  const reached = new Set(rows.filter((row) => row.state !== "removed" && row.status !== NO_MAPPING).map((row) => row.status)).size;
  const parts = [`${source}: ${mapped} code${mapped === 1 ? "" : "s"} lead to ${reached} of ${statusColumn.filter((n) => n !== NO_MAPPING).length} portal statuses and ${categoryColumn.length} national categories.`];
  const unmapped = rows.filter((row) => row.state === "unmapped");
  if (unmapped.length) parts.push(` ${unmapped.length} code${unmapped.length === 1 ? "" : "s"} from pending dead letters ha${unmapped.length === 1 ? "s" : "ve"} no mapping.`);
  const fixed = rows.filter((row) => row.state === "fixed");
  if (fixed.length) parts.push(` ${fixed.length} mapped code${fixed.length === 1 ? "" : "s"} still ha${fixed.length === 1 ? "s" : "ve"} parked messages (${fixed.reduce((n, row) => n + (waiting.get(row.code) || 0), 0)}) to replay.`);
  const changed = rows.filter((row) => ["added", "changed", "removed"].includes(row.state));
  if (changed.length) parts.push(` The draft changes ${changed.length} row${changed.length === 1 ? "" : "s"}.`);
  return parts.join("");
}

function highlightList(source, rows, waiting, changes, lang) {
  const words = {
    unmapped: (row) => (row.viaDefault ? `has ${waiting.get(row.code)} parked message(s); the default status “${row.status}” would apply now` : `no mapping; ${waiting.get(row.code)} message(s) parked`),
    fixed: (row) => `now maps to “${row.status}”; ${waiting.get(row.code)} parked message(s) wait for a replay`,
    added: (row) => `new in the draft: → “${row.status}”`,
    changed: (row) => `the draft changes it: “${changes.get(row.code).old}” → “${row.status}”`,
    removed: (row) => `the draft removes it (was → “${row.status}”)`,
  };
  return h(
    "ul",
    { class: "chain-highlights", "data-testid": "chain-highlights", "data-source": source },
    rows.map((row) =>
      h("li", { class: `state-${row.state}`, dataset: { code: row.code, state: row.state } }, h("code", { lang }, row.code), `: ${words[row.state](row)}`),
    ),
  );
}

function legend(rows) {
  const present = new Set(rows.map((row) => row.state));
  const entries = [
    ["unmapped", "code from dead letters without a mapping"],
    ["fixed", "mapped now, parked messages to replay"],
    ["added", "added by the draft"],
    ["changed", "changed by the draft"],
    ["removed", "removed by the draft"],
  ].filter(([state]) => present.has(state));
  if (!entries.length) return null;
  return h(
    "p",
    { class: "legend chain-legend", "aria-hidden": "true" },
    entries.map(([state, text]) => h("span", { class: `swatch state-${state}` }, text)),
  );
}
