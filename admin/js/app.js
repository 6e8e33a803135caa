// The console: sign-in, learning what the key may do, and switching between screens.

import { ApiError, api, describe, onUnauthenticated, session } from "./api.js";
import { state } from "./context.js";
import { h, replace } from "./dom.js";
import * as audit from "./screens/audit.js";
import * as deadletters from "./screens/deadletters.js";
import * as draft from "./screens/draft.js";
import * as overview from "./screens/overview.js";
import * as rules from "./screens/rules.js";
import * as versions from "./screens/versions.js";

const SCREENS = {
  overview: { module: overview, needs: "rules:read" },
  rules: { module: rules, needs: "rules:read" },
  draft: { module: draft, needs: "rules:write" },
  versions: { module: versions, needs: "rules:read" },
  deadletters: { module: deadletters, needs: "deadletters:manage" },
  audit: { module: audit, needs: "audit:export" },
};

const PERMISSION_NAMES = {
  "rules:read": "read the rules",
  "rules:write": "edit drafts",
  "rules:publish": "publish and roll back",
  "deadletters:manage": "replay dead letters",
  "audit:export": "export audit data",
};

const $ = (id) => document.getElementById(id);

/**
 * Learns what the key may do. There is no endpoint that lists a key's permissions, so each one is
 * probed with a request that changes nothing: a 403 means no. Throws ApiError 401 for a bad key.
 */
async function probe(key) {
  const allowed = (status) => status !== 403;
  const attempt = async (method, path, body) => {
    try {
      await api(method, path, { key, body, quiet401: true });
      return 200;
    } catch (error) {
      if (error.status === 401 || error.status === 0) throw error;
      return error.status;
    }
  };
  let active = null;
  const permissions = new Set();
  try {
    active = await api("GET", "/admin/v1/rules", { key, quiet401: true });
    permissions.add("rules:read");
  } catch (error) {
    if (error.status !== 403) throw error;
  }
  const [write, publish, dead, auditExport] = await Promise.all([
    // Validating an empty document only reports findings.
    attempt("POST", "/admin/v1/rules/validate", { document: {} }),
    // Without baseVersion the request is refused (400) after the permission check, before any change.
    attempt("POST", "/admin/v1/rules/publish", {}),
    attempt("GET", "/api/v1/deadletters?state=pending"),
    attempt("GET", "/admin/v1/audit/rules-history?format=json&from=2999-01-01"),
  ]);
  if (allowed(write)) permissions.add("rules:write");
  if (allowed(publish)) permissions.add("rules:publish");
  if (dead === 200) permissions.add("deadletters:manage");
  if (auditExport === 200) permissions.add("audit:export");
  return { active, permissions };
}

function tenantFromKey(key) {
  return /^sbk_([a-z0-9-]+)_/.exec(key)?.[1] || null;
}

async function signIn(key) {
  const { active, permissions } = await probe(key);
  session.key = key;
  state.permissions = permissions;
  state.active = active;
  state.tenant = active?.document?.tenant || tenantFromKey(key);
  state.displayName = active?.document?.displayName || null;
  enterConsole();
}

function enterConsole() {
  $("signin-screen").hidden = true;
  $("console").hidden = false;
  $("identity").hidden = false;
  $("tenant-name").textContent = state.displayName || state.tenant || "Unknown tenant";
  $("tenant-id").textContent = state.tenant ? `tenant ${state.tenant}` : "";
  if (state.active?.document?.country) {
    const lang = { SE: "sv", NO: "nb", DK: "da", FI: "fi" }[state.active.document.country];
    if (lang) $("tenant-name").setAttribute("lang", lang);
  }
  const granted = Object.entries(PERMISSION_NAMES).filter(([permission]) => state.permissions.has(permission));
  replace(
    $("permissions"),
    granted.length
      ? granted.map(([permission, label]) => h("li", { dataset: { permission } }, label))
      : h("li", { class: "none" }, "nothing in this console"),
  );
  for (const item of document.querySelectorAll("nav.tabs li[data-needs]")) {
    item.hidden = !state.permissions.has(item.dataset.needs);
  }
  route(false);
}

function signOut(reason) {
  if (draft.hasUnsavedChanges() && !reason && !window.confirm("Sign out and lose the draft's unsaved changes?")) return;
  session.clear();
  state.permissions = new Set();
  state.active = null;
  state.tenant = null;
  state.displayName = null;
  for (const screen of Object.values(SCREENS)) screen.module.reset?.();
  for (const id of ["overview-content", "rules-content", "draft-content", "versions-content", "deadletters-content", "audit-content", "notice"]) replace($(id));
  $("console").hidden = true;
  $("identity").hidden = true;
  $("signin-screen").hidden = false;
  $("apikey").value = "";
  const error = $("signin-error");
  error.hidden = !reason;
  error.textContent = reason || "";
  history.replaceState(null, "", location.pathname);
  $("apikey").focus();
}

function firstAllowedScreen() {
  return Object.keys(SCREENS).find((name) => state.permissions.has(SCREENS[name].needs)) || "none";
}

function route(moveFocus = true) {
  if ($("console").hidden) return;
  let name = location.hash.replace(/^#/, "").split("/")[0];
  if (!SCREENS[name] || !state.permissions.has(SCREENS[name].needs)) name = firstAllowedScreen();
  for (const screen of document.querySelectorAll("section.screen")) screen.hidden = screen.dataset.screen !== name;
  for (const link of document.querySelectorAll("nav.tabs a")) {
    if (link.getAttribute("href") === `#${name}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.title = `${name === "none" ? "Statusbro admin" : $(`nav-${name}`).textContent} · ${state.displayName || state.tenant || ""} · Statusbro admin`;
  if (name === "none") return;
  const container = $(`${name}-content`);
  if (moveFocus) {
    const heading = $(`${name}-title`);
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
  Promise.resolve(SCREENS[name].module.show(container)).catch((error) => {
    replace(container, h("div", { class: "message error", role: "alert" }, describe(error)));
  });
}

function start() {
  onUnauthenticated(() => signOut("Your key is no longer accepted (revoked or expired). Sign in again with a valid key."));
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("apikey").value.trim();
    const error = $("signin-error");
    if (!key) {
      error.hidden = false;
      error.textContent = "Enter your API key.";
      $("apikey").setAttribute("aria-invalid", "true");
      $("apikey").focus();
      return;
    }
    const button = $("signin-button");
    button.disabled = true;
    button.textContent = "Signing in…";
    try {
      await signIn(key);
      $("apikey").value = "";
      $("apikey").removeAttribute("aria-invalid");
      error.hidden = true;
    } catch (failure) {
      error.hidden = false;
      error.textContent = failure instanceof ApiError && failure.status === 401 ? "This API key is not accepted: it is unknown, revoked or expired. Check that you copied the whole key." : describe(failure);
      $("apikey").setAttribute("aria-invalid", "true");
      $("apikey").focus();
    } finally {
      button.disabled = false;
      button.textContent = "Sign in";
    }
  });
  $("signout-button").addEventListener("click", () => signOut());
  window.addEventListener("hashchange", () => route(true));
  window.addEventListener("beforeunload", (event) => {
    if (draft.hasUnsavedChanges()) event.preventDefault();
  });

  const key = session.key;
  if (key) {
    signIn(key).catch((failure) => signOut(failure instanceof ApiError && failure.status === 401 ? "Your key is no longer accepted. Sign in again." : describe(failure)));
  } else {
    $("apikey").focus();
  }
}

start();
