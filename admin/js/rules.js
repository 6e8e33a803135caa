// Pure functions over a rules document (no DOM): the transition matrix, the impact sentence,
// readable paths and values, JSON Pointers.

/** The portal status names in document order, first definition of a name wins (as the engine does). */
export function statusNames(document) {
  const seen = new Set();
  const names = [];
  for (const status of document?.statuses || []) {
    if (status && typeof status.name === "string" && !seen.has(status.name)) {
      seen.add(status.name);
      names.push(status.name);
    }
  }
  return names;
}

/** The category of each status name. */
export function categoryOf(document) {
  const map = new Map();
  for (const status of document?.statuses || []) {
    if (status && !map.has(status.name)) map.set(status.name, status.category);
  }
  return map;
}

/**
 * Which moves the document allows, the same way the engine compiles them: the default (allow or
 * deny) for every pair; a status with a rule may move only to the statuses it lists (the last rule
 * naming it wins); a final status (final: true, or a rule with `to: []`) cannot move at all; staying
 * on a status is not a move. Returns {names, finals, cell(from, to) → {kind, reason}}.
 */
export function transitionMatrix(document) {
  const names = statusNames(document);
  const known = new Set(names);
  const transitions = document?.transitions || {};
  const byDefault = transitions.default === "deny" ? "deny" : "allow";
  const rules = Array.isArray(transitions.rules) ? transitions.rules : [];
  const ruleFor = new Map();
  for (const rule of rules) {
    if (rule && known.has(rule.from)) ruleFor.set(rule.from, Array.isArray(rule.to) ? rule.to : []);
  }
  const finals = new Set();
  for (const status of document?.statuses || []) if (status?.final && known.has(status.name)) finals.add(status.name);
  for (const rule of rules) if (rule && known.has(rule.from) && Array.isArray(rule.to) && rule.to.length === 0) finals.add(rule.from);

  function cell(from, to) {
    if (from === to) return { kind: "stay", reason: "Staying on a status is not a move" };
    if (finals.has(from)) return { kind: "deny", reason: `${from} is final: a case never leaves it` };
    if (ruleFor.has(from)) {
      const allowed = ruleFor.get(from).includes(to);
      return {
        kind: allowed ? "allow" : "deny",
        reason: allowed ? `A rule lets ${from} move to ${to}` : `${from} may move only to the statuses its rule lists`,
      };
    }
    return { kind: byDefault, reason: `No rule for ${from}: the default (${byDefault}) applies` };
  }
  return { names, finals, byDefault, ruleFor, cell };
}

/**
 * Every move the document allows, as {from, to} in document order: exactly the cells the matrix
 * marks allowed, so the matrix and the flow graph can never disagree.
 */
export function allowedMoves(document) {
  const matrix = transitionMatrix(document);
  const moves = [];
  for (const from of matrix.names) {
    for (const to of matrix.names) if (matrix.cell(from, to).kind === "allow") moves.push({ from, to });
  }
  return moves;
}

/**
 * What a draft changes in the code mappings and statuses compared with a release:
 * {codes: Map(source → Map(code → {change: added|changed|removed, old, new})), categories: Map(status → {old, new})}.
 */
export function mappingChanges(before, after) {
  const codes = new Map();
  const sources = new Set([...Object.keys(before?.sources || {}), ...Object.keys(after?.sources || {})]);
  for (const source of sources) {
    const old = before?.sources?.[source]?.codes || {};
    const now = after?.sources?.[source]?.codes || {};
    const changes = new Map();
    for (const code of new Set([...Object.keys(old), ...Object.keys(now)])) {
      if (!(code in old)) changes.set(code, { change: "added", old: null, new: now[code] });
      else if (!(code in now)) changes.set(code, { change: "removed", old: old[code], new: null });
      else if (old[code] !== now[code]) changes.set(code, { change: "changed", old: old[code], new: now[code] });
    }
    if (changes.size) codes.set(source, changes);
  }
  const categories = new Map();
  const oldCategories = categoryOf(before);
  for (const [status, category] of categoryOf(after)) {
    if (oldCategories.has(status) && oldCategories.get(status) !== category) categories.set(status, { old: oldCategories.get(status), new: category });
  }
  return { codes, categories };
}

/** What a source system's table makes of a code: {status, how: "mapped"|"default"} or null (refused), as the engine maps it. */
export function mapCode(document, source, code) {
  const definition = document?.sources?.[source];
  if (!definition) return null;
  const codes = definition.codes || {};
  if (Object.prototype.hasOwnProperty.call(codes, code)) return { status: codes[code], how: "mapped" };
  const unmapped = definition.unmapped;
  if (unmapped && typeof unmapped === "object" && unmapped.default) return { status: unmapped.default, how: "default" };
  return null;
}

/** "37 existing cases would change status: KOMPREV 30, UAB 7". */
export function impactSentence(impact) {
  const total = impact?.casesChangingStatus ?? 0;
  if (!total) return "No existing case would change status.";
  const byCode = impact.byCode || [];
  const sources = new Set(byCode.map((entry) => entry.sourceSystem));
  const counts = new Map();
  for (const entry of byCode) {
    const label = sources.size > 1 ? `${entry.sourceSystem} ${entry.code}` : entry.code;
    counts.set(label, (counts.get(label) || 0) + entry.cases);
  }
  const parts = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([label, n]) => `${label} ${n}`);
  const noun = total === 1 ? "existing case would" : "existing cases would";
  return `${total} ${noun} change status${parts.length ? ": " + parts.join(", ") : ""}`;
}

/** Escapes one JSON Pointer segment (RFC 6901). */
export function pointerSegment(value) {
  return String(value).replaceAll("~", "~0").replaceAll("/", "~1");
}

/** A JSON Pointer from segments. */
export function pointer(...segments) {
  return segments.map((segment) => "/" + pointerSegment(segment)).join("");
}

/** The segments of a JSON Pointer. */
export function pointerSegments(text) {
  if (!text || text === "/") return [];
  return text
    .split("/")
    .slice(1)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** A readable name for a path of the diff and the rules history (`sources.BYGGR.codes.KOMPTEK`). */
export function describePath(path) {
  let match;
  if ((match = /^sources\.([^.]+)\.codes\.(.+)$/.exec(path))) return `${match[1]} code ${match[2]}`;
  if ((match = /^sources\.([^.]+)\.unmapped$/.exec(path))) return `${match[1]}: codes without a mapping`;
  if ((match = /^sources\.([^.]+)$/.exec(path))) return `Source system ${match[1]}`;
  if ((match = /^statuses\.(.+)$/.exec(path))) return `Portal status ${match[1]}`;
  if (path === "transitions.default") return "Moves without a rule (default)";
  if ((match = /^transitions\.rules\.(.+)$/.exec(path))) return `Moves from ${match[1]}`;
  if ((match = /^categories\.(.+)$/.exec(path))) return `Category ${match[1]}`;
  if ((match = /^roles\.(.+)$/.exec(path))) return `Role ${match[1]}`;
  if ((match = /^tests\[(\d+)\]$/.exec(path))) return `Rule test ${Number(match[1]) + 1}`;
  if ((match = /^jwtIssuers(.*)$/.exec(path))) return `Token issuers${match[1]}`;
  const names = {
    displayName: "Name",
    country: "Country",
    municipalityCode: "Municipality code",
    timeZone: "Time zone",
    feedRetentionDays: "Feed retention (days)",
    tenant: "Tenant id",
  };
  return names[path] || path;
}

/** A readable rendering of a diff value. */
export function describeValue(value, path = "") {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return path.startsWith("categories.") ? (value ? "present" : "absent") : value ? "yes" : "no";
  if (Array.isArray(value)) {
    if (path.startsWith("transitions.rules.")) return value.length ? "only to " + value.join(", ") : "nowhere (final)";
    return value.length ? value.map((v) => describeValue(v)).join(", ") : "(none)";
  }
  if (path.startsWith("statuses.")) {
    const flags = [];
    if (value.category) flags.push(`category ${value.category}`);
    if (value.initial) flags.push("initial");
    if (value.final) flags.push("final");
    return flags.join(", ") || "—";
  }
  if (value && typeof value === "object" && "default" in value && Object.keys(value).length === 1) {
    return `default status ${value.default}`;
  }
  return JSON.stringify(value);
}

/** The closest candidate to `value` (case-insensitive edit distance), when it is close enough to be a typo. */
export function nearest(value, candidates) {
  if (typeof value !== "string" || !value) return null;
  let best = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(value.toLocaleLowerCase(), candidate.toLocaleLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== null && bestDistance > 0 && bestDistance <= Math.max(2, Math.floor(value.length / 4)) ? best : null;
}

function editDistance(a, b) {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length];
}

/** An instant in the tenant's time zone: "2024-04-23 12:47". */
export function formatInstant(iso, timeZone) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" };
  try {
    return new Intl.DateTimeFormat("sv-SE", { ...options, timeZone: timeZone || undefined }).format(date);
  } catch {
    return new Intl.DateTimeFormat("sv-SE", options).format(date);
  }
}

/** A deep copy of JSON data. */
export function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** Whether two JSON values are equal, ignoring object key order. */
export function sameJSON(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  }
  return value;
}

/** The language of the tenant's data, for screen readers: SE → sv, NO → nb, DK → da, FI → fi. */
export function dataLanguage(document) {
  return { SE: "sv", NO: "nb", DK: "da", FI: "fi" }[document?.country] || null;
}
