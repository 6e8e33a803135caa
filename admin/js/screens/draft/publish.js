// Publishing the draft with optimistic concurrency: the release it was based on must still be
// the active one; when somebody else published first, nothing is published and the person
// chooses what to do.

import { api, describe } from "../../api.js";
import { notify, refreshActive, state } from "../../context.js";
import { h, message, replace } from "../../dom.js";
import { startProgress } from "../../progress.js";
import { impactSentence } from "../../rules.js";
import { placeFindings, prepare, summarize } from "./findings.js";
import { currentDocument, hooks, model, rememberBase, root, ui } from "./model.js";
import { showReport } from "./report.js";

/** What the person may do when the active release moved on: compare, publish over it on purpose, or start again. */
export function conflictActions(base, activeVersion) {
  return h(
    "div",
    { class: "actions" },
    h("button", { type: "button", class: "button secondary", "data-testid": "conflict-compare", onclick: () => compare(base, activeVersion) }, `Compare version ${base} with ${activeVersion}`),
    h(
      "button",
      {
        type: "button",
        class: "button secondary",
        "data-testid": "conflict-rebase",
        onclick: () => {
          model.base = activeVersion;
          model.inferredBase = false;
          model.dirty = true;
          hooks.renderStatus();
          replace(ui.actionMessage, message("info", `Your draft is now based on version ${activeVersion}. Publishing it replaces version ${activeVersion} with your draft: check the differences first.`));
        },
      },
      `Keep my edits and publish over version ${activeVersion}`,
    ),
    h("button", { type: "button", class: "button secondary", "data-testid": "conflict-reload", onclick: () => hooks.startAgain() }, `Discard my draft and load version ${activeVersion}`),
  );
}

function compare(from, to) {
  state.pendingDiff = { from, to };
  location.hash = "#versions";
}

/** The publish form (comment, Publish) and where its result is shown. */
export function publishPanel() {
  const comment = h("textarea", { id: "publish-comment", "data-testid": "publish-comment", rows: "2", maxlength: "2000" });
  const button = h("button", { type: "submit", class: "button primary", id: "draft-publish", "data-testid": "draft-publish" }, "Publish");
  ui.publishResult = h("div", { id: "publish-result", "data-testid": "publish-result", "aria-live": "polite" });
  ui.publishProgress = h("div", { id: "publish-progress-host" });
  return h(
    "section",
    { class: "panel publish", "aria-labelledby": "publish-title" },
    h("h2", { id: "publish-title" }, "Publish"),
    h("p", { class: "help" }, "Publishing checks the draft (validation and rule tests) and makes it the active rules for every server within seconds. Cases whose status changes show the new one at once."),
    h(
      "form",
      {
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          if (!comment.value.trim()) {
            replace(ui.publishResult, message("error", "Write a comment: what changed and why. It is kept in the history auditors read."));
            comment.setAttribute("aria-invalid", "true");
            comment.focus();
            return;
          }
          comment.removeAttribute("aria-invalid");
          if (!prepare()) return;
          await publish(comment, button);
        },
      },
      h("div", { class: "field" }, h("label", { for: "publish-comment" }, "Comment (what changed and why)"), comment),
      button,
    ),
    ui.publishProgress,
    ui.publishResult,
  );
}

/**
 * Publishes in steps the page can name but not measure: check the draft and compute its impact,
 * publish, keep the shared draft in step. A busy bar with the time elapsed shows meanwhile, and
 * nothing that could change the draft can be pressed.
 */
async function publish(comment, button) {
  const document = currentDocument();
  const base = model.base;
  replace(ui.publishResult);
  const controls = [button, comment, ...root.querySelectorAll(".toolbar button")];
  const task = startProgress(ui.publishProgress, { label: `Publishing the draft over version ${base}`, controls, testid: "publish-progress" });
  let impact = null;
  try {
    task.step("Step 1 of 2: checking the draft and computing its impact on existing cases…");
    const report = await api("POST", "/admin/v1/rules/validate", { body: { document } });
    if (!report.valid) {
      showReport(report);
      const errors = (report.errors || []).length;
      const failed = (report.tests || []).filter((test) => !test.passed).length;
      task.finish("Nothing was published.", "failed");
      replace(
        ui.publishResult,
        message(
          "error",
          h("p", { "data-testid": "publish-invalid" }, `Nothing was published: the draft has ${errors} error(s)${failed ? ` and ${failed} failing rule test(s)` : ""}, shown next to the fields they concern.`),
        ),
      );
      return;
    }
    impact = report.impact;
    task.step(`Step 2 of 2: publishing (${impactSentence(impact).replace(/\.$/, "")})…`);
  } catch (error) {
    task.finish("Nothing was published.", "failed");
    replace(ui.publishResult, message("error", describe(error)));
    return;
  }
  try {
    const { version } = await api("POST", "/admin/v1/rules/publish", { body: { baseVersion: base, comment: comment.value.trim(), document } });
    model.base = version;
    model.inferredBase = false;
    comment.value = "";
    task.finish(`Published version ${version}.`);
    replace(
      ui.publishResult,
      message(
        "success",
        h("span", { "data-testid": "publish-success" }, `Published version ${version}. It is the active release now.`),
        h("p", { "data-testid": "publish-impact" }, impact.casesChangingStatus ? impactSentence(impact).replace("would change", "changed") + "." : "No existing case changed status."),
      ),
    );
    notify("success", `Version ${version} of the rules is active.`);
    try {
      await refreshActive();
      // Keep the shared draft equal to what is now active, so nobody reopens a stale one.
      const saved = await api("PUT", "/admin/v1/rules/draft", { body: { document } });
      model.savedAt = saved.updatedAt;
      model.savedBy = saved.updatedBy;
      model.dirty = false;
      rememberBase(saved.updatedAt);
    } catch {
      /* the publish itself succeeded; the status line shows the draft as unsaved */
    }
    hooks.renderStatus();
  } catch (error) {
    task.finish("Nothing was published.", "failed");
    if (error.code === "VERSION_CONFLICT") {
      const activeVersion = error.problem.activeVersion ?? "a newer version";
      try {
        await refreshActive();
      } catch {
        /* the message below still holds */
      }
      replace(
        ui.publishResult,
        message(
          "error",
          h(
            "p",
            { "data-testid": "version-conflict" },
            `Nothing was published: someone else published version ${activeVersion} while you were editing (your draft was started from version ${base}). Reload the active release and apply your changes to it again, or compare the versions and publish your draft over version ${activeVersion} on purpose.`,
          ),
          typeof activeVersion === "number" ? conflictActions(base, activeVersion) : null,
        ),
      );
      hooks.renderStatus();
    } else if (error.code === "RULES_INVALID") {
      const findings = error.problem.errors || [];
      const unplaced = placeFindings(findings, "error");
      summarize(findings.length, 0, []);
      replace(
        ui.publishResult,
        message(
          "error",
          h("p", { "data-testid": "publish-invalid" }, `Nothing was published: the draft has ${findings.length} error(s), shown next to the fields they concern.`),
          unplaced.length ? h("ul", {}, unplaced.map((f) => h("li", { class: "finding error", "data-testid": "finding", dataset: { path: f.path || "" } }, h("code", {}, f.path || f.pointer), `: ${f.message}`))) : null,
        ),
      );
    } else {
      replace(ui.publishResult, message("error", describe(error)));
    }
  }
}

