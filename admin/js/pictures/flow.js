// The status flow: the transition rules as a graph drawn as SVG by the page itself. Statuses are
// nodes on an ellipse in document order (the first one on the left), every allowed move is one
// arrow, final statuses are marked. The moves come from rules.js's allowedMoves, the same
// computation as the matrix, so the two can never disagree.

import { h, replace, uid } from "../dom.js";
import { allowedMoves, transitionMatrix } from "../rules.js";
import { arrowMarker, fit, px, s, textWidth } from "./svg.js";

const FONT = 13;
const NODE_H = 30;
const PAD = 10;
const MARGIN = 14;
const MAX_LABEL = 200;

/** A <figure> with the flow graph of `document`, and a control that picks out one status's moves. */
export function statusFlow(document, { testid = "status-flow", lang = null } = {}) {
  const matrix = transitionMatrix(document);
  const moves = allowedMoves(document);
  const names = matrix.names;
  const initial = new Set((document?.statuses || []).filter((status) => status?.initial).map((status) => status.name));
  const id = uid("flow");
  const markerId = `${id}-arrow`;
  const markerOnId = `${id}-arrow-on`;

  // Nodes: the label, then a word for initial and final (not colour alone).
  const tagOf = (name) => [initial.has(name) ? "initial" : null, matrix.finals.has(name) ? "final" : null].filter(Boolean).join(", ");
  const widthOf = (name) => Math.min(MAX_LABEL, textWidth(name, FONT, 600)) + (tagOf(name) ? textWidth(tagOf(name), 11, 600) + 16 : 0) + 2 * PAD;
  const widths = new Map(names.map((name) => [name, widthOf(name)]));
  const widest = Math.max(120, ...widths.values());
  const n = names.length;
  // Wide enough that two neighbours at the top (half the radius apart at six statuses) do not touch.
  const rx = n <= 1 ? 0 : Math.max(220, widest * 1.25 + 30, (n * (widest + 24)) / (2 * Math.PI));
  const ry = n <= 1 ? 0 : Math.max(140, rx * 0.6);
  const width = 2 * rx + widest + 2 * MARGIN;
  const height = 2 * ry + NODE_H + 2 * MARGIN + 24;
  const cx = width / 2;
  const cy = height / 2;
  const centre = new Map(
    names.map((name, i) => {
      const angle = Math.PI + (2 * Math.PI * i) / Math.max(n, 1);
      return [name, { x: cx + rx * Math.cos(angle), y: cy + ry * Math.sin(angle) }];
    }),
  );

  const arrows = s("g", { class: "flow-moves" });
  for (const move of moves) {
    arrows.append(
      s(
        "path",
        { class: "flow-move", d: arrowPath(centre.get(move.from), centre.get(move.to), widths.get(move.from), widths.get(move.to)), "marker-end": `url(#${markerId})`, dataset: { from: move.from, to: move.to } },
        s("title", {}, `${move.from} → ${move.to}: ${matrix.cell(move.from, move.to).reason}`),
      ),
    );
  }
  const nodes = s("g", { class: "flow-nodes" });
  for (const name of names) {
    const { x, y } = centre.get(name);
    const w = widths.get(name);
    const left = x - w / 2;
    const top = y - NODE_H / 2;
    const final = matrix.finals.has(name);
    const out = moves.filter((move) => move.from === name).length;
    nodes.append(
      s(
        "g",
        { class: `flow-status${final ? " final" : ""}${initial.has(name) ? " initial" : ""}`, dataset: { status: name, final: String(final), initial: String(initial.has(name)), moves: String(out) } },
        s("title", {}, `${name}: ${final ? "final, a case never leaves it" : `may move to ${out} status${out === 1 ? "" : "es"}`}`),
        s("rect", { x: px(left), y: px(top), width: px(w), height: NODE_H, rx: 8 }),
        final ? s("rect", { class: "final-ring", x: px(left + 3), y: px(top + 3), width: px(w - 6), height: NODE_H - 6, rx: 6 }) : null,
        s("text", { x: px(left + PAD), y: px(y + 4.5), class: "flow-label" }, fit(name, MAX_LABEL, FONT, 600)),
        tagOf(name) ? s("text", { x: px(left + w - PAD), y: px(y + 4), class: "flow-tag", "text-anchor": "end" }, tagOf(name)) : null,
      ),
    );
  }

  const titleId = `${id}-title`;
  const descId = `${id}-desc`;
  const summary = describeFlow(matrix, moves);
  const picture = s(
    "svg",
    { class: "flow", role: "img", "aria-labelledby": `${titleId} ${descId}`, viewBox: `0 0 ${px(width)} ${px(height)}`, width: px(width), height: px(height), "data-testid": testid, lang },
    s("title", { id: titleId }, "Status flow: the allowed moves between portal statuses"),
    s("desc", { id: descId }, summary),
    s("defs", {}, arrowMarker(markerId, "flow-arrow"), arrowMarker(markerOnId, "flow-arrow on")),
    arrows,
    nodes,
  );

  // Picking a status shows only its moves (keyboard: a select, announced below).
  const chooserId = `${id}-from`;
  const chosen = h("p", { class: "help", "aria-live": "polite", "data-testid": `${testid}-focus` });
  const chooser = h(
    "select",
    { id: chooserId, "data-testid": `${testid}-from` },
    h("option", { value: "" }, "every status"),
    names.map((name) => h("option", { value: name }, name)),
  );
  chooser.addEventListener("change", () => {
    const from = chooser.value;
    for (const path of [...arrows.children]) {
      const on = !from || path.dataset.from === from;
      path.classList.toggle("dim", !on);
      path.classList.toggle("on", Boolean(from) && on);
      path.setAttribute("marker-end", `url(#${from && on ? markerOnId : markerId})`);
      // Drawn last, a picked arrow is not hidden under the others.
      if (from && on) arrows.append(path);
    }
    for (const node of nodes.children) {
      const name = node.dataset.status;
      node.classList.toggle("dim", Boolean(from) && name !== from && !moves.some((move) => move.from === from && move.to === name));
      node.classList.toggle("picked", name === from);
    }
    if (!from) replace(chosen, "");
    else {
      const targets = moves.filter((move) => move.from === from).map((move) => move.to);
      replace(chosen, targets.length ? `${from} may move to ${targets.join(", ")}.` : `${from} is final: no move leaves it.`);
    }
  });

  return h(
    "figure",
    { class: "picture flow-figure" },
    h("div", { class: "field flow-chooser" }, h("label", { for: chooserId }, "Show the moves from"), chooser),
    chosen,
    h("div", { class: "picture-scroll", role: "region", tabindex: "0", "aria-label": "Status flow (scrolls sideways in a narrow window)" }, picture),
    h("figcaption", {}, summary),
    h(
      "details",
      { class: "flow-list" },
      h("summary", {}, "The moves as a list"),
      h(
        "ul",
        { lang },
        names.map((name) => {
          const targets = moves.filter((move) => move.from === name).map((move) => move.to);
          return h("li", {}, h("strong", {}, name), matrix.finals.has(name) ? " (final): no move" : `: ${targets.length ? targets.join(", ") : "no move"}`);
        }),
      ),
    ),
  );
}

/** A curved arrow from one node's edge to another's, bent to its right so that A→B and B→A stay apart. */
function arrowPath(from, to, fromWidth, toWidth) {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const length = Math.hypot(dx, dy) || 1;
  const bend = 0.1 * length + 10;
  const control = { x: (from.x + to.x) / 2 - (dy / length) * bend, y: (from.y + to.y) / 2 + (dx / length) * bend };
  const start = edgePoint(from, fromWidth, control, 2);
  const end = edgePoint(to, toWidth, control, 3);
  return `M ${px(start.x)} ${px(start.y)} Q ${px(control.x)} ${px(control.y)} ${px(end.x)} ${px(end.y)}`;
}

/** Where the line from a node's centre towards `toward` leaves its rectangle, `gap` px further out. */
function edgePoint(centre, width, toward, gap) {
  const dx = toward.x - centre.x;
  const dy = toward.y - centre.y;
  const length = Math.hypot(dx, dy) || 1;
  const scale = Math.min(dx ? width / 2 / Math.abs(dx) : Infinity, dy ? NODE_H / 2 / Math.abs(dy) : Infinity);
  return { x: centre.x + dx * scale + (dx / length) * gap, y: centre.y + dy * scale + (dy / length) * gap };
}

function describeFlow(matrix, moves) {
  const finals = [...matrix.finals];
  const parts = [`${matrix.names.length} statuses and ${moves.length} allowed move${moves.length === 1 ? "" : "s"}`];
  parts.push(matrix.byDefault === "allow" ? "; a status without a rule may move anywhere" : "; only the moves the rules list are allowed");
  if (finals.length) parts.push(`; final: ${finals.join(", ")}`);
  return parts.join("") + ".";
}
