// #/home: the sessions waiting now, live from the lobby stream (lobby.js): who, ticket, machine, how
// they joined, how long they have waited (ticking), and Connect (-> #/view/<id>).

import { h, replaceChildren } from "../dom.js";
import { pageHeader } from "../forms.js";
import { lobby } from "../lobby.js";
import { duration, spokenDuration, joinMethod } from "../format.js";
import { navigate } from "../router.js";
import { announce } from "../announce.js";

export function renderHome(container, _params, page) {
  const status = h("p", { class: "live-status", role: "status" });
  const list = h("div", { class: "lobby" });
  replaceChildren(container,
    pageHeader("Waiting sessions", "End users who joined through your links or connection IDs. The list updates by itself.", status),
    list);

  let known = new Set(lobby.sessions().map((session) => session.id));
  const waitCells = new Map();

  function showStatus() {
    const live = lobby.status === "live";
    status.className = "live-status " + (live ? "is-live" : "is-reconnecting");
    status.textContent = live ? "Live" : lobby.status === "connecting" ? "Connecting…" : "Reconnecting…";
  }

  function showList() {
    const sessions = lobby.sessions();
    const arrived = sessions.filter((session) => !known.has(session.id));
    if (arrived.length === 1) announce(`${arrived[0].displayName || "An end user"} is waiting`);
    else if (arrived.length > 1) announce(`${arrived.length} new end users are waiting`);
    known = new Set(sessions.map((session) => session.id));

    waitCells.clear();
    if (sessions.length === 0) {
      replaceChildren(list, h("div", { class: "empty card" },
        h("p", { class: "empty-title" }, "No one is waiting right now."),
        h("p", {}, "Send an end user an ", h("a", { href: "#/invite" }, "invitation link"),
          " or ", h("a", { href: "#/connection-id" }, "share a connection ID"), ": they appear here as soon as they join.")));
      return;
    }
    const rows = sessions.map((session) => {
      const waited = h("td", { "data-label": "Waiting", class: "numeric" });
      waitCells.set(waited, Date.parse(session.created));
      const name = session.displayName || session.endUser?.name || "Unnamed end user";
      return h("tr", {},
        h("th", { scope: "row", "data-label": "End user" }, h("span", { class: "cell-strong" }, name)),
        h("td", { "data-label": "Ticket" }, session.ticket || h("span", { class: "muted" }, "—")),
        h("td", { "data-label": "Machine" },
          h("span", {}, session.endUser?.machineName || "—"),
          session.endUser?.operatingSystem ? h("span", { class: "subtle" }, session.endUser.operatingSystem) : null),
        h("td", { "data-label": "Joined by" }, h("span", { class: "tag" }, joinMethod(session.joinMethod))),
        waited,
        h("td", { class: "actions" },
          h("button", { type: "button", class: "btn btn-primary", "aria-label": `Connect to ${name}`, onClick: () => navigate("/view/" + session.id) }, "Connect")));
    });
    replaceChildren(list, h("table", { class: "table table-cards" },
      h("caption", { class: "visually-hidden" }, "Sessions waiting for an agent"),
      h("thead", {}, h("tr", {},
        ["End user", "Ticket", "Machine", "Joined by", "Waiting"].map((text) => h("th", { scope: "col" }, text)),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Action")))),
      h("tbody", {}, rows)));
    tick();
  }

  function tick() {
    const now = Date.now();
    for (const [cell, since] of waitCells) {
      cell.textContent = duration(now - since);
      cell.title = "Waiting for " + spokenDuration(now - since);
    }
  }

  showStatus();
  showList();
  lobby.addEventListener("change", showList);
  lobby.addEventListener("status", showStatus);
  const timer = setInterval(tick, 1000);
  page.onLeave(() => {
    clearInterval(timer);
    lobby.removeEventListener("change", showList);
    lobby.removeEventListener("status", showStatus);
  });
}
