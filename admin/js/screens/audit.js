// The auditor's exports: fetched with the key header, saved through a Blob and <a download>.

import { download, describe } from "../api.js";
import { state } from "../context.js";
import { h, message, replace } from "../dom.js";
import { startProgress } from "../progress.js";

let root = null;
let ui = {};

/** Forgets everything (sign-out). */
export function reset() {
  root = null;
  ui = {};
}

/** Builds the export form once. */
export function show(container) {
  if (root === container && ui.status?.isConnected) return;
  root = container;
  ui = {};
  ui.from = h("input", { id: "audit-from", type: "date", "data-testid": "audit-from", "aria-describedby": "audit-period-help" });
  ui.to = h("input", { id: "audit-to", type: "date", "data-testid": "audit-to", "aria-describedby": "audit-period-help" });
  ui.caseId = h("input", { id: "audit-case", type: "text", autocomplete: "off", spellcheck: "false", "data-testid": "audit-case", "aria-describedby": "audit-case-help" });
  ui.status = h("div", { id: "audit-status", "data-testid": "audit-status", "aria-live": "polite" });
  ui.progress = h("div", { id: "audit-progress-host" });

  const button = (id, label, kind, format) => h("button", { type: "button", class: "button secondary", id, "data-testid": id, onclick: () => save(kind, format) }, label);

  replace(
    container,
    h(
      "section",
      { class: "panel", "aria-labelledby": "period-title" },
      h("h2", { id: "period-title" }, "Period"),
      h(
        "div",
        { class: "row" },
        h("div", { class: "field" }, h("label", { for: "audit-from" }, "From (date)"), ui.from),
        h("div", { class: "field" }, h("label", { for: "audit-to" }, "To (date, included)"), ui.to),
      ),
      h("p", { class: "help", id: "audit-period-help" }, "Leave a date empty for no limit. Dates are whole days in UTC; the “to” day is included."),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "history-title" },
      h("h2", { id: "history-title" }, "Rules history"),
      h("p", { class: "help" }, "One row per changed entry per release: version, published at, by, comment, path, change, old and new value."),
      h("div", { class: "actions" }, button("dl-rules-csv", "Download rules history (CSV)", "rules-history", "csv"), button("dl-rules-json", "Download rules history (JSON)", "rules-history", "json")),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "decisions-title" },
      h("h2", { id: "decisions-title" }, "Decisions"),
      h("p", { class: "help" }, "Every recorded event with the rules version that mapped it: explains every status ever shown."),
      h(
        "div",
        { class: "field" },
        h("label", { for: "audit-case" }, "Only this case (optional)"),
        ui.caseId,
        h("p", { class: "help", id: "audit-case-help" }, "The case id in the source system, e.g. BYGG 2024-000123."),
      ),
      h("div", { class: "actions" }, button("dl-decisions-csv", "Download decisions (CSV)", "decisions", "csv"), button("dl-decisions-json", "Download decisions (JSON)", "decisions", "json")),
    ),
    ui.progress,
    ui.status,
  );
}

async function save(kind, format) {
  const from = ui.from.value;
  const to = ui.to.value;
  if (from && to && from > to) {
    replace(ui.status, message("error", "The “from” date is after the “to” date."));
    ui.from.focus();
    return;
  }
  const params = [["format", format]];
  if (from) params.push(["from", from]);
  if (to) params.push(["to", to]);
  const caseId = ui.caseId.value.trim();
  if (kind === "decisions" && caseId) params.push(["externalCaseId", caseId]);
  // Percent-encoding throughout: the server does not read "+" as a space (URLSearchParams writes "+").
  const query = params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&");
  const period = from || to ? `_${from || "start"}_${to || "today"}` : "";
  const name = `${kind}-${state.tenant}${period}.${format}`;
  // The server builds the whole export before it answers (busy, with the time elapsed); then the
  // body arrives, and its size is known (a bar that fills).
  const controls = [...root.querySelectorAll("button, input")];
  replace(ui.status);
  const task = startProgress(ui.progress, { label: `Preparing ${name}`, controls, testid: "audit-progress", format: formatSize });
  task.step("The server is collecting the rows…");
  try {
    const saved = await download(`/admin/v1/audit/${kind}?${query}`, name, {
      onResponse: (total) => {
        if (total) task.setTotal(total);
        task.step("Downloading…");
      },
      onProgress: (received) => task.update(received, "downloading"),
    });
    task.finish(`Saved ${saved.name}.`);
    replace(ui.status, message("success", h("span", { "data-testid": "audit-saved", dataset: { file: saved.name } }, `Saved ${saved.name} (${formatSize(saved.size)}).`)));
  } catch (error) {
    task.finish("Nothing was saved.", "failed");
    replace(ui.status, message("error", describe(error)));
  }
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
