// The live lobby: the sessions waiting for this agent (every waiting one for an admin), kept up to date
// from the broker's event stream `GET /api/v1/lobby/events` (EventSource sends the login cookie).
//
// Events: `session.waiting` (a Session) adds or replaces one, `session.gone` ({id, reason}) removes it.
// Each (re)connection starts with every session waiting now: entries not repeated within a short while
// after the stream opens are dropped (they left while we were away). The browser retries a dropped
// stream by itself; a refused one (401, 403) is checked with GET /me (a 401 there logs out) and opened
// again after a growing pause. Dispatches "change" (the list) and "status" (`lobby.status`).

import { get } from "./api.js";

const reconcileDelay = 2000;
const maximumPause = 30000;

class Lobby extends EventTarget {
  #waiting = new Map();
  #source = null;
  #stale = null;
  #staleTimer = null;
  #retryTimer = null;
  #pause = 1000;
  #running = false;
  /** "connecting", "live" or "reconnecting". */
  status = "connecting";

  /** The waiting sessions, longest waiting first. */
  sessions() {
    return [...this.#waiting.values()].sort((a, b) => a.created.localeCompare(b.created));
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    this.#open();
  }

  stop() {
    this.#running = false;
    this.#source?.close();
    this.#source = null;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#staleTimer);
    this.#waiting.clear();
    this.#setStatus("connecting");
    this.#changed();
  }

  /** Opens the stream again now (after a new login cookie, e.g. a password change). */
  restart() {
    if (!this.#running) return this.start();
    this.#source?.close();
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  #open() {
    const source = new EventSource("/api/v1/lobby/events", { withCredentials: true });
    this.#source = source;
    source.addEventListener("open", () => {
      if (source !== this.#source) return;
      this.#pause = 1000;
      this.#setStatus("live");
      // What waited before is confirmed by the opening burst, or dropped.
      this.#stale = new Set(this.#waiting.keys());
      clearTimeout(this.#staleTimer);
      this.#staleTimer = setTimeout(() => this.#dropStale(), reconcileDelay);
    });
    source.addEventListener("session.waiting", (event) => {
      const session = parse(event.data);
      if (!session?.id) return;
      this.#stale?.delete(session.id);
      this.#waiting.set(session.id, session);
      this.#changed();
    });
    source.addEventListener("session.gone", (event) => {
      const gone = parse(event.data);
      if (gone?.id && this.#waiting.delete(gone.id)) this.#changed();
    });
    source.addEventListener("error", () => {
      if (source !== this.#source) return;
      if (source.readyState === EventSource.CONNECTING) { this.#setStatus("reconnecting"); return; }
      // Refused (not a 200 event stream): find out why, then try again later.
      source.close();
      this.#setStatus("reconnecting");
      get("/me").catch(() => {}).finally(() => {
        if (!this.#running || source !== this.#source) return;
        this.#retryTimer = setTimeout(() => { if (this.#running) this.#open(); }, this.#pause);
        this.#pause = Math.min(this.#pause * 2, maximumPause);
      });
    });
  }

  #dropStale() {
    if (!this.#stale) return;
    let changed = false;
    for (const id of this.#stale) changed = this.#waiting.delete(id) || changed;
    this.#stale = null;
    if (changed) this.#changed();
  }

  #setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new Event("status"));
  }

  #changed() {
    this.dispatchEvent(new Event("change"));
  }
}

function parse(text) {
  try { return JSON.parse(text); } catch { return null; }
}

/** The one lobby of the page (started after login, stopped at logout). */
export const lobby = new Lobby();
