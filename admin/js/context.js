// What every screen shares: who is signed in, what the key may do, the active release, and the
// console-wide notice and confirmation dialog.

import { api } from "./api.js";
import { h, replace } from "./dom.js";

/** The signed-in session's state (nothing here outlives the tab; the key itself is in api.js). */
export const state = {
  permissions: new Set(),
  tenant: null,
  displayName: null,
  country: null,
  timeZone: null,
  active: null,
};

/** Whether the signed-in key may do `permission` (as /admin/v1/me said at sign-in). */
export function can(permission) {
  return state.permissions.has(permission);
}

/** Loads the active release (needs rules:read). */
export async function refreshActive() {
  state.active = await api("GET", "/admin/v1/rules");
  state.displayName = state.active.document?.displayName || state.displayName;
  return state.active;
}

/** The time zone of the tenant (for showing instants): the active release's once loaded, else the one /admin/v1/me gave. */
export function timeZone() {
  return state.active?.document?.timeZone || state.timeZone || undefined;
}

/** Shows a console-wide message at the top (announced politely). */
export function notify(kind, text) {
  const notice = document.getElementById("notice");
  if (!text) {
    replace(notice);
    return;
  }
  replace(
    notice,
    h(
      "div",
      { class: `message ${kind}` },
      h("span", {}, text),
      h("button", { type: "button", class: "link-button", onclick: () => replace(notice) }, "Dismiss"),
    ),
  );
}

/**
 * Asks for confirmation in a modal dialog (keyboard: Tab, Enter, Escape).
 * Resolves {ok, comment}.
 */
export function confirmDialog({ title, text, okText, comment = null }) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okText;
  const commentField = document.getElementById("confirm-comment-field");
  const commentInput = document.getElementById("confirm-comment");
  commentField.hidden = comment === null;
  commentInput.value = comment ?? "";
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener && opener.isConnected) opener.focus();
        resolve({ ok: dialog.returnValue === "ok", comment: commentInput.value.trim() });
      },
      { once: true },
    );
    dialog.returnValue = "cancel";
    dialog.showModal();
    (comment === null ? document.getElementById("confirm-cancel") : commentInput).focus();
  });
}
