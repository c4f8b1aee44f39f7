// #/settings/profile: the agent's name, e-mail and job title (PATCH /me); the top bar follows.

import { patch } from "../api.js";
import { me, updateAgent } from "../account.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, pageHeader, whileBusy } from "../forms.js";
import { announce } from "../announce.js";

export function renderProfile(container) {
  const agent = me().agent;
  const name = field({ label: "Name", name: "name", value: agent.name, autocomplete: "name", required: true, maxlength: "200",
    hint: "Shown to end users with your job title when you connect." });
  const email = field({ label: "E-mail", name: "email", type: "email", value: agent.email, autocomplete: "email", required: true,
    hint: "You log in with it." });
  const jobTitle = field({ label: "Job title", name: "jobTitle", value: agent.jobTitle, autocomplete: "organization-title", maxlength: "200" });
  const message = messageBox();
  const save = h("button", { type: "submit", class: "btn btn-primary" }, "Save profile");
  const form = h("form", { class: "form card", novalidate: true, "aria-label": "Profile" },
    name.element, email.element, jobTitle.element, message.element, h("div", { class: "form-actions" }, save));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.clear();
    if (!name.input.value.trim()) { message.show("Enter your name."); name.input.focus(); return; }
    if (!email.input.value.trim() || !email.input.checkValidity()) { message.show("Enter a valid e-mail address."); email.input.focus(); return; }
    try {
      const updated = await whileBusy(save, () => patch("/me", {
        name: name.input.value.trim(),
        email: email.input.value.trim(),
        jobTitle: jobTitle.input.value.trim(),
      }));
      updateAgent(updated);
      message.success("Profile saved.");
      announce("Profile saved");
    } catch (error) {
      message.show(error);
    }
  });

  replaceChildren(container, pageHeader("Profile", "How you appear to end users and to other agents."), form);
}
