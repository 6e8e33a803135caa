// Editing the code mappings in the form: one editor per source system (its codes, each mapped to
// a portal status, and what happens to a code without a mapping), and the form around them.

import { confirmDialog } from "../../context.js";
import { h, message, replace, scroller, sr, uid } from "../../dom.js";
import { categoryOf, dataLanguage, pointer } from "../../rules.js";
import { clearFindingsAt } from "./findings.js";
import { currentDocument, markDirty, model, newRowId, ui } from "./model.js";
import { refreshStatusList, renderStatuses, renderTransitions } from "./statuses.js";

/** Draws the whole form: code mappings per source system, statuses, moves. */
export function renderForm() {
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
        const row = { id: newRowId(), code: "", status: "" };
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

