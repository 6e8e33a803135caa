// Editing the portal statuses (name, category, initial, final) and the moves between them.

import { h, replace, scroller, sr, uid } from "../../dom.js";
import { categoryOf, dataLanguage, pointer, statusNames } from "../../rules.js";
import { clearFindingsAt } from "./findings.js";
import { currentDocument, markDirty, model, ui } from "./model.js";

/** The status names offered while typing a status. */
export function refreshStatusList() {
  replace(ui.statusList, statusNames(model.doc).map((name) => h("option", { value: name })));
}

/** The statuses editor. */
export function renderStatuses() {
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

/** The editor of the moves between statuses: the default, then one rule per status. */
export function renderTransitions() {
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
