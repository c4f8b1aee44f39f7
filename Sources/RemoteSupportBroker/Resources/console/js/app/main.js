// Start-up: who is logged in (GET /me decides between the login page and the desk), the routes, the
// top bar, the live lobby, and where a lost login goes (any 401 -> the login page).

import { get } from "./api.js";
import { loggedIn, logOut } from "./auth.js";
import { route, start, navigate, currentPath } from "./router.js";
import { mountTopbar } from "./topbar.js";
import { renderLogin } from "./pages/login.js";
import { renderHome } from "./pages/home.js";
import { renderSessions } from "./pages/sessions.js";
import { renderInvite } from "./pages/invite.js";
import { renderConnectionID } from "./pages/connection-id.js";
import { renderProfile } from "./pages/profile.js";
import { renderPassword } from "./pages/password.js";
import { renderAgents } from "./pages/agents.js";
import { renderAudit } from "./pages/audit.js";
import { renderView } from "./pages/view.js";

route("/login", renderLogin, { public: true, title: "Log in" });
route("/home", renderHome, { section: "desk", title: "Waiting sessions" });
route("/sessions", renderSessions, { section: "desk", title: "All sessions" });
route("/invite", renderInvite, { section: "desk", title: "Invite" });
route("/connection-id", renderConnectionID, { section: "desk", title: "Connection ID" });
route("/settings/profile", renderProfile, { section: "settings", title: "Profile" });
route("/settings/password", renderPassword, { section: "settings", title: "Password", whilePasswordForced: true });
route("/settings/agents", renderAgents, { section: "settings", title: "Agents", admin: true });
route("/settings/audit", renderAudit, { section: "settings", title: "Audit log", admin: true });
route("/settings", () => navigate("/settings/profile"), { section: "settings" });
route("/view/:id", renderView, { title: "Remote screen", wide: true });

document.getElementById("skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  const main = document.getElementById("main");
  (main.querySelector("h1") ?? main).focus();
});

async function boot() {
  mountTopbar({ onLogOut: logOut });
  try {
    loggedIn(await get("/me"));
  } catch {
    // Not logged in (401), or the broker is unreachable: the login page says so when it is used.
  }
  if (!currentPath() || currentPath() === "/") window.history.replaceState(null, "", "#/home");
  start();
}

boot();
