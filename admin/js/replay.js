// Replaying many dead letters one request each, so the page knows the total and shows a bar that
// fills, can stop between two messages, and reports each result. Used by the Dead letters screen
// and the overview's "Replay" per problem code.

import { api } from "./api.js";
import { startProgress } from "./progress.js";

/**
 * Replays `letters` (oldest first, as listed) through the active rules, one request each.
 * Resolves {results: [{letter, result} | {letter, error}], accepted, rejected, failed, stopped}.
 */
export async function replayEach(letters, { host, controls = [], label, testid = "replay-progress" }) {
  const task = startProgress(host, { label, total: letters.length, controls, cancellable: letters.length > 1, testid });
  const outcome = { results: [], accepted: 0, rejected: 0, failed: 0, stopped: false };
  for (const letter of letters) {
    if (task.cancelled) {
      outcome.stopped = true;
      break;
    }
    try {
      const result = await api("POST", `/api/v1/deadletters/${encodeURIComponent(letter.id)}/replay`);
      outcome.results.push({ letter, result });
      if (result.outcome === "accepted") outcome.accepted += 1;
      else outcome.rejected += 1;
    } catch (error) {
      // A refused key ends the session (api.js signs out); anything else is noted and the next one tried.
      if (error.status === 401) {
        task.finish("Stopped: the key is no longer accepted.", "failed");
        throw error;
      }
      outcome.results.push({ letter, error });
      outcome.failed += 1;
    }
    task.update(outcome.results.length, `${outcome.accepted} accepted, ${outcome.rejected} refused again${outcome.failed ? `, ${outcome.failed} failed` : ""}`);
  }
  const replayed = outcome.results.length;
  const summary = `${outcome.stopped ? `Stopped after ${replayed} of ${letters.length}` : `Replayed ${replayed}`}: ${outcome.accepted} accepted, ${outcome.rejected} refused again${outcome.failed ? `, ${outcome.failed} could not be sent` : ""}.`;
  task.finish(summary, outcome.stopped ? "stopped" : outcome.failed ? "failed" : "done");
  outcome.summary = summary;
  return outcome;
}
