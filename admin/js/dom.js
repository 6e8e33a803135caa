// A tiny element builder. Text always goes in as text nodes, so data from the server (codes,
// status names, comments) can never become markup.

/**
 * h("button", {class: "button", onclick: fn, dataset: {id: 1}}, "Replay")
 * Attributes whose value is false/null/undefined are left out; `true` sets an empty attribute.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "dataset") {
      for (const [key, data] of Object.entries(value)) if (data !== undefined && data !== null) element.dataset[key] = data;
    } else if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else if (name === "value") {
      element.value = value;
    } else if (name === "checked" || name === "selected" || name === "disabled" || name === "hidden") {
      element[name] = Boolean(value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the content of `element`. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let counter = 0;
/** A unique id for label/for and aria-describedby pairs. */
export function uid(prefix = "id") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A text that only screen readers announce. */
export function sr(text) {
  return h("span", { class: "sr-only" }, text);
}

/** A message block; `kind` is info, success, warning or error (errors are announced at once). */
export function message(kind, ...content) {
  return h("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" }, ...content);
}

/** Wraps a wide table so it scrolls on its own instead of widening the page. */
export function scroller(label, table) {
  return h("div", { class: "table-scroll", role: "region", "aria-label": label, tabindex: "0" }, table);
}

/** A labelled field: label above, control, optional help. */
export function field(labelText, control, help) {
  const id = control.id || uid("field");
  control.id = id;
  const helpId = help ? id + "-help" : null;
  if (helpId) control.setAttribute("aria-describedby", helpId);
  return h("div", { class: "field" }, h("label", { for: id }, labelText), control, help ? h("p", { class: "help", id: helpId }, help) : null);
}

/** Sets a button busy while `work` runs; returns what `work` returns. */
export async function busy(button, work, busyText) {
  const text = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (busyText) button.textContent = busyText;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = text;
  }
}
