// Drawing SVG by hand: an element builder like dom.js's h() (text always as text nodes, so codes
// and status names from the server never become markup), and text measuring for the layouts.

const NS = "http://www.w3.org/2000/svg";

/** s("rect", {x: 1, class: "node"}, child…): an SVG element. null/false/undefined attributes are left out. */
export function s(tag, attributes = {}, ...children) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "dataset") {
      for (const [key, data] of Object.entries(value)) if (data !== undefined && data !== null) element.dataset[key] = data;
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

let canvas = null;

/**
 * The width of `text` in pixels at `size` px in the console's font (measured on a canvas, so no
 * element has to be in the page first). Falls back to an estimate where canvas text is unavailable.
 */
export function textWidth(text, size = 13, weight = 400) {
  canvas = canvas || document.createElement("canvas");
  const context = canvas.getContext("2d");
  if (!context) return String(text).length * size * 0.58;
  const family = getComputedStyle(document.documentElement).fontFamily || "sans-serif";
  context.font = `${weight} ${size}px ${family}`;
  return context.measureText(String(text)).width;
}

/** `text` cut to at most `max` px wide, with an ellipsis; the full text belongs in a <title>. */
export function fit(text, max, size = 13, weight = 400) {
  const full = String(text);
  if (textWidth(full, size, weight) <= max) return full;
  let low = 0;
  let high = full.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (textWidth(full.slice(0, middle) + "…", size, weight) <= max) low = middle;
    else high = middle - 1;
  }
  return full.slice(0, low) + "…";
}

/** An arrowhead marker for paths (`marker-end="url(#id)"`), coloured by CSS through `class`. */
export function arrowMarker(id, className) {
  return s(
    "marker",
    { id, viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse", class: className },
    s("path", { d: "M 0 0 L 10 5 L 0 10 z" }),
  );
}

/** A number for an SVG attribute: at most one decimal. */
export function px(value) {
  return Math.round(value * 10) / 10;
}
