// Findings: every validation finding is put next to the field it concerns (by its JSON Pointer,
// else the closest enclosing part of the form), with a suggestion for a likely typo; what the form
// does not show is listed by the validation result instead.

import { h, message, replace, uid } from "../../dom.js";
import { nearest, pointer, pointerSegments, statusNames } from "../../rules.js";
import { switchView, syncView } from "./json.js";
import { model, root, ui } from "./model.js";

/** Removes every finding shown. */
export function clearFindings() {
  for (const node of root.querySelectorAll(".finding, tr.finding-row")) node.remove();
  for (const element of root.querySelectorAll("[aria-invalid]")) unmarkInvalid(element);
}

/** Removes the findings shown at one field (it was edited). */
export function clearFindingsAt(element) {
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
export function placeFindings(findings, severity) {
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

/** Moves to the first field with an error (switching to the form if needed). */
export function focusFirstInvalid() {
  const element = firstInvalid();
  if (!element) return;
  if (ui.form.hidden) switchView("form");
  element.scrollIntoView({ block: "center" });
  element.focus({ preventScroll: true });
}

/** The one-line validation summary in the toolbar. */
export function summarize(errors, warnings, tests) {
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

/** Checks the form can be sent (JSON taken in, codes present and unique); false shows why. */
export function prepare() {
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
