// #/settings/agents (admins): every agent; add one (POST /agents: the one-time default password is
// shown once), disable / enable (POST /agents/<id>/disable|enable), reset a password
// (POST /agents/<id>/reset-password: a new one-time password, shown once).

import { get, post } from "../api.js";
import { me } from "../account.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, pageHeader, whileBusy } from "../forms.js";
import { copyButton, selectContents } from "../clipboard.js";
import { dateAndTime, shortDateAndTime } from "../format.js";

export function renderAgents(container, _params, page) {
  const name = field({ label: "Name", name: "name", autocomplete: "off", required: true, maxlength: "200" });
  const email = field({ label: "E-mail", name: "email", type: "email", autocomplete: "off", required: true });
  const jobTitle = field({ label: "Job title", name: "jobTitle", autocomplete: "off", maxlength: "200" });
  const role = field({ label: "Role", name: "role", value: "agent", options: [["agent", "Agent"], ["admin", "Administrator"]] });
  const add = h("button", { type: "submit", class: "btn btn-primary" }, "Add agent");
  const addMessage = messageBox();
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": "Add an agent" },
    h("div", { class: "field-grid" }, name.element, email.element, jobTitle.element, role.element),
    addMessage.element, h("div", { class: "form-actions" }, add));

  const secret = h("div", { class: "secret", hidden: true, role: "region", "aria-label": "One-time password" });
  const listMessage = messageBox();
  const list = h("div", { class: "results" });

  replaceChildren(container,
    pageHeader("Agents", "Who can log in to the console. New agents and reset passwords get a one-time password they must change at their first login."),
    h("section", { class: "card", "aria-labelledby": "add-agent-title" }, h("h2", { id: "add-agent-title" }, "Add an agent"), form),
    secret,
    h("section", { class: "card", "aria-labelledby": "agents-title" }, h("h2", { id: "agents-title" }, "Everyone"), listMessage.element, list));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    addMessage.clear();
    if (!name.input.value.trim()) { addMessage.show("Enter the agent's name."); name.input.focus(); return; }
    if (!email.input.value.trim() || !email.input.checkValidity()) { addMessage.show("Enter a valid e-mail address."); email.input.focus(); return; }
    try {
      const created = await whileBusy(add, () => post("/agents", {
        name: name.input.value.trim(),
        email: email.input.value.trim(),
        jobTitle: jobTitle.input.value.trim() || null,
        role: role.input.value,
      }));
      form.reset();
      showSecret(created.agent, created.password, "added");
      await load();
    } catch (error) {
      addMessage.show(error);
    }
  });

  function showSecret(agent, password, what) {
    const value = h("code", { class: "secret-value", id: "one-time-password" }, password);
    replaceChildren(secret,
      h("h2", {}, what === "added" ? `${agent.name} was added` : `New password for ${agent.name}`),
      h("p", {}, "Their one-time password. It is shown only now: give it to them by a safe channel. They must change it when they log in."),
      h("div", { class: "output-row" }, value, copyButton({ text: () => password, select: () => selectContents(value), describedBy: "one-time-password" })),
      h("button", { type: "button", class: "btn btn-ghost", onClick: () => { secret.hidden = true; replaceChildren(secret); } }, "Done, hide it"));
    secret.hidden = false;
    secret.setAttribute("tabindex", "-1");
    secret.focus();
  }

  async function load() {
    listMessage.clear();
    try {
      const { agents } = await get("/agents");
      if (!page.isCurrent()) return;
      agents.sort((a, b) => a.name.localeCompare(b.name));
      replaceChildren(list, h("table", { class: "table table-cards" },
        h("caption", { class: "visually-hidden" }, "Agents"),
        h("thead", {}, h("tr", {}, ["Name", "E-mail", "Job title", "Role", "Status", "Last login"].map((text) => h("th", { scope: "col" }, text)),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")))),
        h("tbody", {}, agents.map(row))));
    } catch (error) {
      listMessage.show(error);
    }
  }

  function row(agent) {
    const self = agent.id === me().agent.id;
    const toggle = h("button", { type: "button", class: agent.enabled ? "btn btn-danger-quiet" : "btn btn-secondary",
      "aria-label": `${agent.enabled ? "Disable" : "Enable"} ${agent.name}` }, agent.enabled ? "Disable" : "Enable");
    const reset = h("button", { type: "button", class: "btn btn-secondary", "aria-label": `Reset the password of ${agent.name}` }, "Reset password");
    toggle.addEventListener("click", async () => {
      listMessage.clear();
      try {
        await whileBusy(toggle, () => post(`/agents/${agent.id}/${agent.enabled ? "disable" : "enable"}`));
        await load();
        listMessage.success(`${agent.name} is ${agent.enabled ? "disabled" : "enabled"}.`);
      } catch (error) {
        listMessage.show(error);
      }
    });
    reset.addEventListener("click", async () => {
      if (!window.confirm(`Give ${agent.name} a new one-time password? Their current logins end.`)) return;
      listMessage.clear();
      try {
        const { password } = await whileBusy(reset, () => post(`/agents/${agent.id}/reset-password`));
        showSecret(agent, password, "reset");
      } catch (error) {
        listMessage.show(error);
      }
    });
    return h("tr", { class: agent.enabled ? null : "is-disabled", dataset: { agentId: agent.id } },
      h("th", { scope: "row", "data-label": "Name" }, h("span", { class: "cell-strong" }, agent.name), self ? h("span", { class: "subtle" }, "You") : null),
      h("td", { "data-label": "E-mail" }, agent.email),
      h("td", { "data-label": "Job title" }, agent.jobTitle || h("span", { class: "muted" }, "—")),
      h("td", { "data-label": "Role" }, agent.role === "admin" ? "Administrator" : "Agent"),
      h("td", { "data-label": "Status" }, h("span", { class: "state " + (agent.enabled ? "state-connected" : "state-cancelled") }, agent.enabled ? "Enabled" : "Disabled")),
      h("td", { "data-label": "Last login", class: "nowrap", title: agent.lastLogin ? dateAndTime(agent.lastLogin) : null }, agent.lastLogin ? shortDateAndTime(agent.lastLogin) : h("span", { class: "muted" }, "Never")),
      h("td", { class: "actions" }, self ? null : [toggle, reset]));
  }

  load();
}
