// #/settings/audit (admins): the audit trail, newest first (GET /audit), filtered by action, agent and
// time range; "Older events" pages back by sequence number (`before`).

import { get } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, pageHeader, whileBusy } from "../forms.js";
import { dateAndTime, shortDateAndTime, localInputToISO } from "../format.js";

const pageSize = 50;

/** The actions the broker records (RemoteSupportCore AuditAction), offered as suggestions. */
const knownActions = [
  "login.succeeded", "login.failed", "login.throttled", "logout", "password.changed", "profile.updated",
  "agent.created", "agent.disabled", "agent.enabled", "agent.password-reset",
  "invitation.created", "invitation.revoked", "invitation.emailed", "short-link.created",
  "connection-id.issued", "connection-id.failed", "rate-limited",
  "session.joined", "session.connected", "session.ended", "session.cancelled", "session.expired", "system.bootstrap",
];

export function renderAudit(container, _params, page) {
  const action = field({ label: "Action", name: "action", list: "audit-actions", autocomplete: "off", hint: "For example login.failed" });
  const agent = field({ label: "Agent", name: "agent", value: "", options: [["", "Any agent"]] });
  const since = field({ label: "Since", name: "since", type: "datetime-local" });
  const until = field({ label: "Until", name: "until", type: "datetime-local" });
  const apply = h("button", { type: "submit", class: "btn btn-primary" }, "Apply filters");
  const reset = h("button", { type: "reset", class: "btn btn-ghost" }, "Clear");
  const filters = h("form", { class: "filters card", role: "search", "aria-label": "Filter the audit log" },
    h("datalist", { id: "audit-actions" }, knownActions.map((name) => h("option", { value: name }))),
    h("div", { class: "filter-grid" }, action.element, agent.element, since.element, until.element),
    h("div", { class: "form-actions" }, apply, reset));

  const message = messageBox();
  const summary = h("p", { class: "result-summary", role: "status" });
  const results = h("div", { class: "results" });
  const older = h("button", { type: "button", class: "btn btn-secondary", hidden: true }, "Older events →");

  replaceChildren(container,
    pageHeader("Audit log", "What happened on this broker: logins, account changes, links and sessions."),
    filters, message.element, summary, results, h("div", { class: "pager" }, older));

  let events = [];

  function query(before) {
    return {
      action: action.input.value.trim(),
      agent: agent.input.value,
      since: localInputToISO(since.input.value),
      until: localInputToISO(until.input.value),
      limit: pageSize,
      before,
    };
  }

  async function load({ button, append = false } = {}) {
    message.clear();
    const before = append && events.length ? events[events.length - 1].sequence : undefined;
    try {
      const work = () => get("/audit", query(before));
      const answer = button ? await whileBusy(button, work) : await work();
      if (!page.isCurrent()) return;
      events = append ? [...events, ...answer.events] : answer.events;
      older.hidden = answer.events.length < pageSize || answer.events.at(-1)?.sequence === undefined;
      show();
    } catch (error) {
      if (page.isCurrent()) message.show(error);
    }
  }

  function show() {
    summary.textContent = events.length === 0 ? "No events match." : `${events.length} event${events.length === 1 ? "" : "s"} shown`;
    if (events.length === 0) { replaceChildren(results); return; }
    replaceChildren(results, h("table", { class: "table table-cards audit-table" },
      h("caption", { class: "visually-hidden" }, "Audit events"),
      h("thead", {}, h("tr", {}, ["Time", "Action", "By", "About", "Address", "Detail"].map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, events.map((event) => h("tr", {},
        h("td", { "data-label": "Time", class: "nowrap", title: dateAndTime(event.time) }, shortDateAndTime(event.time)),
        h("th", { scope: "row", "data-label": "Action" }, h("code", { class: "action" }, event.action)),
        h("td", { "data-label": "By" }, event.actor || h("span", { class: "muted" }, event.actorKind)),
        h("td", { "data-label": "About", title: agentNames.has(event.subject) ? event.subject : null },
          agentNames.get(event.subject) ?? (event.subject || h("span", { class: "muted" }, "—"))),
        h("td", { "data-label": "Address", class: "nowrap" }, event.address || h("span", { class: "muted" }, "—")),
        h("td", { "data-label": "Detail", class: "detail" }, event.detail || h("span", { class: "muted" }, "—")))))));
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    load({ button: apply });
  });
  filters.addEventListener("reset", () => setTimeout(() => load()));
  older.addEventListener("click", () => load({ button: older, append: true }));

  // The agents first: the filter offers them, and the table names them instead of showing their ids.
  const agentNames = new Map();
  get("/agents").then(({ agents }) => {
    if (!page.isCurrent()) return;
    for (const each of agents.sort((a, b) => a.name.localeCompare(b.name))) {
      agentNames.set(each.id, each.name);
      agent.input.append(h("option", { value: each.id }, `${each.name} (${each.email})`));
    }
  }).catch(() => {}).then(() => { if (page.isCurrent()) load(); });
}
