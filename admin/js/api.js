// The HTTP client: every request carries the key in the `apikey` header (never in a URL), and every
// failure becomes an ApiError with a sentence a person understands.

const KEY_ITEM = "statusbro.apikey";

/** The API key, kept for this tab only (sessionStorage), never in localStorage or a URL. */
export const session = {
  get key() {
    return sessionStorage.getItem(KEY_ITEM);
  },
  set key(value) {
    sessionStorage.setItem(KEY_ITEM, value);
  },
  clear() {
    for (const name of Object.keys(sessionStorage)) {
      if (name.startsWith("statusbro.")) sessionStorage.removeItem(name);
    }
  },
};

/** A failed request: `status` 0 means the server could not be reached. */
export class ApiError extends Error {
  constructor(status, problem, correlationId) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
    this.code = this.problem.code || (status === 0 ? "NETWORK" : "HTTP_" + status);
    this.detail = this.problem.detail || "";
    this.correlationId = correlationId || null;
  }
}

let unauthenticatedHandler = null;

/** Called once when a request is refused with 401 while signed in (a revoked or expired key). */
export function onUnauthenticated(handler) {
  unauthenticatedHandler = handler;
}

/**
 * Sends a request and returns the parsed JSON (or the Response with `raw`).
 * `key` overrides the session key (sign-in probes the key before keeping it).
 */
export async function api(method, path, { body, key, raw = false, quiet401 = false } = {}) {
  const headers = { apikey: key ?? session.key ?? "", accept: "application/json, application/problem+json" };
  let payload;
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: "no-store", credentials: "omit" });
  } catch (error) {
    throw new ApiError(0, { detail: String(error?.message || error) });
  }
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    const error = new ApiError(response.status, problem, response.headers.get("x-correlation-id"));
    if (response.status === 401 && !quiet401 && unauthenticatedHandler) unauthenticatedHandler(error);
    throw error;
  }
  if (raw) return response;
  if (response.status === 204) return null;
  return response.json();
}

/**
 * Fetches an export with the key header and saves it through a Blob and <a download>.
 * `onResponse(totalBytes | null)` is called when the server starts answering, `onProgress(bytes)`
 * as the body arrives (so a large export shows how far it is).
 */
export async function download(path, filename, { onResponse, onProgress } = {}) {
  const response = await api("GET", path, { raw: true });
  const total = Number(response.headers.get("content-length")) || null;
  onResponse?.(total);
  let blob;
  if (response.body && onProgress) {
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      onProgress(received);
    }
    blob = new Blob(chunks, { type: response.headers.get("content-type") || "" });
  } else {
    blob = await response.blob();
  }
  const name = filename || filenameFrom(response.headers.get("content-disposition")) || "export";
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
  return { name, size: blob.size, serverName: filenameFrom(response.headers.get("content-disposition")) };
}

function filenameFrom(disposition) {
  if (!disposition) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : null;
}

const PLAIN = {
  NETWORK: "The Statusbro server cannot be reached. Check your connection and try again.",
  UNAUTHENTICATED: "This API key is not accepted: it is unknown, revoked or expired. Sign in with a valid key.",
  FORBIDDEN: "Your key's role does not allow this.",
  NOT_FOUND: "That was not found.",
  VALIDATION_FAILED: "The request was not accepted.",
  INVALID_IDENT: "An organisation or identity number is not valid.",
  PAYLOAD_TOO_LARGE: "The rules document is too large to send (the limit is 1 MiB).",
  UNSUPPORTED_MEDIA_TYPE: "The server expected JSON.",
  UNKNOWN_SOURCE_SYSTEM: "The rules have no such source system.",
  UNMAPPED_STATUS: "The source system's table has no mapping for that code.",
  ILLEGAL_TRANSITION: "The transition rules do not allow that change of status.",
  DUPLICATE_MESSAGE_CONFLICT: "A message id was reused with a different content.",
  ALREADY_EXISTS: "It already exists with a different content.",
  VERSION_CONFLICT: "The rules were changed by someone else meanwhile.",
  RULES_INVALID: "The rules document has errors; nothing was published.",
  INTERNAL: "Something went wrong in the server. Try again; if it keeps happening, tell your Statusbro administrator.",
};

/** A sentence for a person: the plain meaning of the problem code, then the server's detail. */
export function describe(error) {
  if (!(error instanceof ApiError)) return String(error?.message || error);
  const plain = PLAIN[error.code] || `The request failed (HTTP ${error.status}).`;
  const parts = [plain];
  if (error.detail && error.code !== "NETWORK" && error.code !== "INTERNAL") parts.push(`Details: ${error.detail}.`);
  if (error.code === "NETWORK" && error.detail) parts.push(`(${error.detail})`);
  if (error.code === "INTERNAL" && error.correlationId) parts.push(`Reference: ${error.correlationId}.`);
  return parts.join(" ").replace(/\.\.$/, ".");
}

/** Problem codes of dead letters in plain words. */
export const DEAD_LETTER_REASONS = {
  UNMAPPED_STATUS: "No mapping for the code",
  UNKNOWN_SOURCE_SYSTEM: "Unknown source system",
  ILLEGAL_TRANSITION: "Status change not allowed",
  VALIDATION_FAILED: "Invalid message",
  INVALID_IDENT: "Invalid identity or organisation number",
};
