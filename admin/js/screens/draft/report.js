// The validation result: the verdict, the impact of the draft on existing cases (how many would
// show another status, per code), the findings the form cannot show, and the document's own tests.

import { h, message, replace, scroller } from "../../dom.js";
import { dataLanguage, impactSentence } from "../../rules.js";
import { placeFindings, summarize } from "./findings.js";
import { model, ui } from "./model.js";

/** Shows a validation report: the verdict, the impact on existing cases, findings the form cannot show, the rule tests. */
export function showReport(report) {
  const unplaced = [...placeFindings(report.errors || [], "error"), ...placeFindings(report.warnings || [], "warning")];
  const tests = report.tests || [];
  summarize((report.errors || []).length, (report.warnings || []).length, tests);
  const impact = report.impact || { casesChangingStatus: 0, byCode: [] };
  ui.results.hidden = false;
  replace(
    ui.results,
    h("h2", { id: "results-title" }, "Validation result"),
    report.valid
      ? message("success", h("span", { "data-testid": "validation-verdict" }, "The draft is valid: it can be published."))
      : message("error", h("span", { "data-testid": "validation-verdict" }, `The draft cannot be published yet: ${(report.errors || []).length} error(s), shown next to the fields they concern.`)),
    h("h3", {}, "Impact on existing cases"),
    h("p", { class: "impact", "data-testid": "impact-sentence", id: "impact-sentence" }, impactSentence(impact)),
    impact.byCode?.length
      ? scroller(
          "Impact by code",
          h(
            "table",
            { class: "data stack", "data-testid": "impact-table", lang: dataLanguage(model.doc) },
            h("caption", {}, "Cases that would show another status"),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Source"), h("th", { scope: "col" }, "Code"), h("th", { scope: "col" }, "Cases"), h("th", { scope: "col" }, "Now"), h("th", { scope: "col" }, "After publishing"))),
            h(
              "tbody",
              {},
              impact.byCode.map((entry) =>
                h(
                  "tr",
                  {},
                  h("td", { "data-label": "Source" }, entry.sourceSystem),
                  h("td", { "data-label": "Code" }, h("code", {}, entry.code)),
                  h("td", { "data-label": "Cases", class: "number" }, String(entry.cases)),
                  h("td", { "data-label": "Now" }, entry.from),
                  h("td", { "data-label": "After publishing" }, entry.to),
                ),
              ),
            ),
          ),
        )
      : null,
    unplaced.length
      ? h(
          "div",
          { class: "general-findings" },
          h("h3", {}, "Other findings"),
          h("p", { class: "help" }, "These concern parts of the document the form does not show (edit them in the JSON view)."),
          h(
            "ul",
            { "data-testid": "general-findings", id: "general-findings" },
            unplaced.map((finding) =>
              h(
                "li",
                { class: `finding ${finding.severity}`, "data-testid": "finding", dataset: { path: finding.path || "", code: finding.code || "", severity: finding.severity } },
                h("span", { class: "finding-label" }, finding.severity === "error" ? "Error" : "Warning"),
                " at ",
                h("code", {}, finding.path || finding.pointer || "the document"),
                `: ${finding.message}`,
              ),
            ),
          ),
        )
      : null,
    tests.length
      ? h(
          "details",
          { class: "tests", open: tests.some((test) => !test.passed) },
          h("summary", { "data-testid": "tests-summary" }, testsSummary(tests)),
          scroller(
            "Rule tests",
            h(
              "table",
              { class: "data stack", "data-testid": "tests-table", lang: dataLanguage(model.doc) },
              h("caption", {}, "The document's own tests, run against the draft"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Test"), h("th", { scope: "col" }, "Expected"), h("th", { scope: "col" }, "Actual"), h("th", { scope: "col" }, "Result"))),
              h(
                "tbody",
                {},
                tests.map((test) =>
                  h(
                    "tr",
                    { dataset: { passed: String(test.passed), index: String(test.index) } },
                    h("th", { scope: "row", "data-label": "Test" }, test.label),
                    h("td", { "data-label": "Expected" }, test.expected),
                    h("td", { "data-label": "Actual" }, test.actual),
                    h("td", { "data-label": "Result", class: test.passed ? "pass" : "fail" }, test.passed ? "✓ passes" : `✗ fails${test.message ? ": " + test.message : ""}`),
                  ),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "help" }, "The document has no rule tests (or they could not run because of the errors)."),
  );
}

function testsSummary(tests) {
  const failed = tests.filter((test) => !test.passed).length;
  return failed ? `Rule tests: ${failed} of ${tests.length} fail` : `Rule tests: all ${tests.length} pass`;
}
