// The left menu of a section: the desk (waiting sessions, all sessions, invite, connection ID) or the
// settings (profile, password, and for admins agents and the audit log). Above the content on narrow
// screens. While the default password must be changed, only the password entry is there.

import { isAdmin, mustChangePassword } from "./account.js";
import { h, replaceChildren } from "./dom.js";
import { lobby } from "./lobby.js";

const sections = {
  desk: {
    label: "Desk",
    entries: () => [
      { path: "/home", text: "Waiting sessions", badge: true },
      { path: "/sessions", text: "All sessions" },
      { path: "/invite", text: "Invite" },
      { path: "/connection-id", text: "Connection ID" },
    ],
  },
  settings: {
    label: "Settings",
    entries: () => mustChangePassword()
      ? [{ path: "/settings/password", text: "Password" }]
      : [
          { path: "/settings/profile", text: "Profile" },
          { path: "/settings/password", text: "Password" },
          ...(isAdmin() ? [{ path: "/settings/agents", text: "Agents" }, { path: "/settings/audit", text: "Audit log" }] : []),
        ],
  },
};

let badge = null;

/** Shows the menu of `section` (null hides it) with `path` marked as the current page. */
export function renderSidenav(section, path) {
  const nav = document.getElementById("sidenav");
  const definition = sections[section];
  nav.hidden = !definition;
  if (!definition) { replaceChildren(nav); badge = null; return; }

  nav.setAttribute("aria-label", definition.label);
  badge = null;
  const items = definition.entries().map((entry) => {
    const current = path === entry.path || path.startsWith(entry.path + "/");
    const count = entry.badge ? h("span", { class: "badge", "aria-label": "" }) : null;
    if (count) badge = count;
    return h("li", {}, h("a", { href: "#" + entry.path, class: "sidenav-link", "aria-current": current ? "page" : null },
      h("span", {}, entry.text), count));
  });
  const back = section === "settings" && !mustChangePassword()
    ? h("p", { class: "sidenav-back" }, h("a", { href: "#/home", class: "sidenav-link" }, "← Back to the desk"))
    : null;
  replaceChildren(nav, h("h2", { class: "sidenav-title" }, definition.label), h("ul", { class: "sidenav-list" }, items), back);
  updateBadge();
}

function updateBadge() {
  if (!badge) return;
  const waiting = lobby.sessions().length;
  badge.textContent = waiting ? String(waiting) : "";
  badge.hidden = waiting === 0;
  badge.setAttribute("aria-label", `${waiting} waiting`);
}

lobby.addEventListener("change", updateBadge);
