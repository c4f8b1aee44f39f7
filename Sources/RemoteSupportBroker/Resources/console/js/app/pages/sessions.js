// #/sessions: every session of the organisation an agent may see (their own; an admin every one),
// newest first, with filters (text, state, how they joined, agent, time range) and paging by the
// API's opaque cursor (`next`, passed back as `after`).

import { get } from "../api.js";
import { isAdmin, me } from "../account.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, pageHeader, whileBusy } from "../forms.js";
import { dateAndTime, shortDateAndTime, duration, joinMethod, sessionStatus, reason, localInputToISO } from "../format.js";

const pageSize = 25;

export function renderSessions(container, _params, page) {
  const admin = isAdmin();
  const text = field({ label: "Search", name: "q", type: "search", hint: "End user, ticket or machine", maxlength: "100" });
  const status = field({ label: "State", name: "status", value: "", options: [
    ["", "Any state"], ["waiting", "Waiting"], ["connected", "Connected"], ["ended", "Ended"], ["cancelled", "Cancelled"], ["expired", "Expired"]] });
  const method = field({ label: "Joined by", name: "method", value: "", options: [
    ["", "Any way"], ["personal-link", "Personal link"], ["invitation", "Invitation"], ["connection-id", "Connection ID"]] });
  const agent = admin ? field({ label: "Agent", name: "agent", value: "", options: [["", "Every agent"]] }) : null;
  const from = field({ label: "From", name: "from", type: "datetime-local" });
  const before = field({ label: "Before", name: "before", type: "datetime-local" });
  const apply = h("button", { type: "submit", class: "btn btn-primary" }, "Apply filters");
  const reset = h("button", { type: "reset", class: "btn btn-ghost" }, "Clear");
  const filters = h("form", { class: "filters card", role: "search", "aria-label": "Filter sessions" },
    h("div", { class: "filter-grid" }, text.element, status.element, method.element, agent?.element, from.element, before.element),
    h("div", { class: "form-actions" }, apply, reset));

  const message = messageBox();
  const summary = h("p", { class: "result-summary", role: "status" });
  const results = h("div", { class: "results" });
  const previous = h("button", { type: "button", class: "btn btn-secondary", disabled: true }, "← Previous page");
  const next = h("button", { type: "button", class: "btn btn-secondary", disabled: true }, "Next page →");
  const pager = h("nav", { class: "pager", "aria-label": "Pages of sessions" }, previous, h("span", { class: "pager-position" }), next);

  replaceChildren(container,
    pageHeader("All sessions", admin ? "Every session of the organisation, newest first." : "Your sessions, newest first."),
    filters, message.element, summary, results, pager);

  const agentNames = new Map([[me().agent.id, me().agent.name]]);
  // Cursors of the pages shown so far: cursors[i] starts page i (undefined for the first).
  let cursors = [undefined];
  let index = 0;
  let nextCursor;

  function query() {
    return {
      q: text.input.value.trim(),
      status: status.input.value,
      method: method.input.value,
      agent: agent?.input.value,
      from: localInputToISO(from.input.value),
      before: localInputToISO(before.input.value),
      limit: pageSize,
      after: cursors[index],
    };
  }

  async function load(button) {
    message.clear();
    try {
      const work = () => get("/sessions", query());
      const list = button ? await whileBusy(button, work) : await work();
      if (!page.isCurrent()) return;
      nextCursor = list.next;
      show(list);
    } catch (error) {
      if (page.isCurrent()) message.show(error);
    }
  }

  function show(list) {
    const first = index * pageSize + 1;
    const last = index * pageSize + list.sessions.length;
    const total = list.total ?? last;
    summary.textContent = total === 0 ? "No sessions match." : `Sessions ${first}–${last} of ${total}`;
    pager.querySelector(".pager-position").textContent = total > pageSize ? `Page ${index + 1} of ${Math.ceil(total / pageSize)}` : "";
    previous.disabled = index === 0;
    next.disabled = !nextCursor;
    pager.hidden = index === 0 && !nextCursor;
    if (list.sessions.length === 0) { replaceChildren(results); return; }

    const headings = ["Started", "End user", "Ticket", "Machine", "Joined by", "State", ...(admin ? ["Agent"] : []), "Connected for"];
    replaceChildren(results, h("table", { class: "table table-cards" },
      h("caption", { class: "visually-hidden" }, "Sessions"),
      h("thead", {}, h("tr", {}, headings.map((heading) => h("th", { scope: "col" }, heading)))),
      h("tbody", {}, list.sessions.map(row))));
  }

  function row(session) {
    return h("tr", {},
      h("td", { "data-label": "Started", class: "nowrap", title: dateAndTime(session.created) }, shortDateAndTime(session.created)),
      h("th", { scope: "row", "data-label": "End user" }, h("span", { class: "cell-strong" }, session.displayName || session.endUser?.name || "—")),
      h("td", { "data-label": "Ticket" }, session.ticket || h("span", { class: "muted" }, "—")),
      h("td", { "data-label": "Machine" }, session.endUser?.machineName || "—",
        session.endUser?.operatingSystem ? h("span", { class: "subtle nowrap" }, session.endUser.operatingSystem) : null),
      h("td", { "data-label": "Joined by", class: "nowrap" }, joinMethod(session.joinMethod)),
      h("td", { "data-label": "State" },
        h("span", { class: "state state-" + session.status }, sessionStatus(session.status)),
        session.endReason ? h("span", { class: "subtle" }, reason(session.endReason)) : null),
      admin ? h("td", { "data-label": "Agent" }, agentNames.get(session.connectedAgentID ?? session.agentID) ?? h("span", { class: "muted" }, "—")) : null,
      connectedFor(session));
  }

  /** How long the agent was connected (or since when, still connected), with the times in its title. */
  function connectedFor(session) {
    const cell = h("td", { "data-label": "Connected for", class: "nowrap numeric" });
    if (!session.connectedAt) {
      cell.append(h("span", { class: "muted" }, "—"));
    } else if (session.finishedAt) {
      cell.textContent = duration(Date.parse(session.finishedAt) - Date.parse(session.connectedAt));
      cell.title = `From ${dateAndTime(session.connectedAt)} to ${dateAndTime(session.finishedAt)}`;
    } else {
      cell.textContent = "Since " + shortDateAndTime(session.connectedAt);
      cell.title = "Connected at " + dateAndTime(session.connectedAt);
    }
    return cell;
  }

  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    cursors = [undefined];
    index = 0;
    load(apply);
  });
  filters.addEventListener("reset", () => {
    // After the browser has emptied the fields.
    setTimeout(() => { cursors = [undefined]; index = 0; load(); });
  });
  next.addEventListener("click", () => {
    if (!nextCursor) return;
    cursors[index + 1] = nextCursor;
    index += 1;
    load(next);
  });
  previous.addEventListener("click", () => {
    if (index === 0) return;
    index -= 1;
    load(previous);
  });

  // The agents' names first (admins), so the table names them.
  const agentsLoaded = admin
    ? get("/agents").then(({ agents }) => {
        if (!page.isCurrent()) return;
        for (const each of agents) {
          agentNames.set(each.id, each.name);
          agent.input.append(h("option", { value: each.id }, `${each.name} (${each.email})`));
        }
      }).catch(() => {})
    : Promise.resolve();
  agentsLoaded.then(() => { if (page.isCurrent()) load(); });
}
