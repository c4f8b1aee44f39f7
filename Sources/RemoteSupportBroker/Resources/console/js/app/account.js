// Who is logged in: the `GET /api/v1/me` answer ({agent, mustChangePassword, organisation}), shared by
// the top bar, the router's guards and the pages. Listeners hear every change (null = logged out).

let current = null;
const listeners = new Set();

export function me() {
  return current;
}

export function isAdmin() {
  return current?.agent?.role === "admin";
}

export function mustChangePassword() {
  return Boolean(current?.mustChangePassword);
}

/** Replaces what is known (a `Me`, or null when logged out) and tells the listeners. */
export function setMe(next) {
  current = next;
  for (const listener of listeners) listener(current);
}

/** Updates the agent (after a profile edit or a login answer) keeping the rest. */
export function updateAgent(agent, changes = {}) {
  setMe({ ...(current ?? { organisation: "" }), ...changes, agent });
}

/** Calls `listener(me)` on every change; returns the function that stops it. */
export function onAccountChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
