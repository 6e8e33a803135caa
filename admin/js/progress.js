// Long work shows progress instead of a frozen page: a determinate bar when the page knows how
// much there is (N dead letters, one request each; a download of known size), else a busy bar
// with the time elapsed. The controls that could start more work are disabled meanwhile; screen
// readers hear the start, milestones and the end (not every tick); the keyboard focus never
// rests on a disabled button.

import { h, replace, uid } from "./dom.js";

/**
 * Starts showing progress in `host` (its content is replaced).
 * `total`: how many steps (a bar that fills), or null (busy, with the time elapsed).
 * `controls`: elements to disable until the work ends. `cancellable`: offers a Stop button; the
 * work polls `task.cancelled` between its steps. `format` writes a count (bytes, say).
 */
export function startProgress(host, { label, total = null, controls = [], cancellable = false, testid = "progress", format = String }) {
  const id = uid("progress");
  const started = performance.now();
  let done = 0;
  let note = "";
  let cancelled = false;
  let lastMilestone = 0;
  let lastAnnounced = started;

  const bar = h("progress", { "aria-labelledby": `${id}-label`, "aria-describedby": `${id}-text`, "data-testid": `${testid}-bar` });
  const text = h("p", { class: "progress-text", id: `${id}-text`, "data-testid": `${testid}-text` });
  const spoken = h("p", { class: "sr-only", role: "status", "aria-live": "polite", "data-testid": `${testid}-spoken` });
  const stop = cancellable
    ? h(
        "button",
        {
          type: "button",
          class: "button secondary small",
          "data-testid": `${testid}-stop`,
          onclick: () => {
            cancelled = true;
            stop.disabled = true;
            stop.textContent = "Stopping after the current step…";
          },
        },
        "Stop",
      )
    : null;
  const box = h(
    "div",
    { class: "progress", id, tabindex: "-1", "aria-busy": "true", "data-testid": testid, dataset: { state: "running" } },
    h("p", { class: "progress-label", id: `${id}-label` }, label),
    bar,
    text,
    spoken,
    stop,
  );
  replace(host, box);

  // Disable what could start more work; keep the focus somewhere useful.
  const opener = document.activeElement;
  const previous = controls.filter(Boolean).map((control) => [control, control.disabled]);
  for (const [control] of previous) control.disabled = true;
  if (opener && previous.some(([control]) => control === opener)) (stop || box).focus();

  function elapsed() {
    const seconds = Math.round((performance.now() - started) / 1000);
    return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  }

  function draw() {
    if (total === null) {
      bar.removeAttribute("value");
      bar.removeAttribute("max");
      bar.setAttribute("aria-valuetext", `working, ${elapsed()}`);
      text.textContent = `${note || "Working…"} · ${elapsed()}`;
    } else {
      bar.max = Math.max(total, 1);
      bar.value = Math.min(done, total);
      bar.setAttribute("aria-valuetext", `${format(done)} of ${format(total)}`);
      text.textContent = `${format(done)} of ${format(total)}${note ? " · " + note : ""} · ${elapsed()}`;
    }
  }

  function announce(message) {
    spoken.textContent = message;
    lastAnnounced = performance.now();
  }

  const timer = setInterval(() => {
    draw();
    // A busy bar says it is still working every ten seconds; a filling bar speaks at its milestones.
    if (total === null && performance.now() - lastAnnounced >= 10_000) announce(`Still working: ${elapsed()}.`);
  }, 1000);
  draw();
  announce(`${label}…`);

  function end(state, message) {
    clearInterval(timer);
    box.dataset.state = state;
    box.removeAttribute("aria-busy");
    if (total !== null && state === "done") bar.value = bar.max;
    if (total === null) {
      bar.max = 1;
      bar.value = state === "done" ? 1 : 0;
    }
    bar.setAttribute("aria-valuetext", message);
    text.textContent = `${message} (${elapsed()})`;
    stop?.remove();
    announce(message);
    for (const [control, was] of previous) control.disabled = was;
    const focusInside = box.contains(document.activeElement) || document.activeElement === document.body;
    if (focusInside && opener?.isConnected && !opener.disabled) opener.focus();
  }

  return {
    /** Steps done so far, and a few words about the current one. */
    update(count, words = note) {
      done = count;
      note = words;
      draw();
      if (total) {
        const milestone = Math.floor((4 * done) / total);
        if (milestone > lastMilestone && done < total) {
          lastMilestone = milestone;
          announce(`${format(done)} of ${format(total)} done.`);
        }
      }
    },
    /** Switches to a known amount of work (a download learns its size). */
    setTotal(count) {
      total = count;
      draw();
    },
    /** Says what is happening now (a busy bar's step: "Publishing…"). */
    step(words) {
      note = words;
      draw();
      announce(words);
    },
    /** Whether the person pressed Stop. */
    get cancelled() {
      return cancelled;
    },
    /** The work is over; `state` is done, stopped or failed. */
    finish(message, state = "done") {
      end(state, message);
    },
    element: box,
  };
}
