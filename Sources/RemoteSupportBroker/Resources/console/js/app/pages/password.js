// #/settings/password: change the password (POST /me/password {current, new}). Right after a first
// login with a default password this is the only page reachable, until the password is changed.

import { get, post } from "../api.js";
import { me, mustChangePassword } from "../account.js";
import { loggedIn } from "../auth.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, pageHeader, whileBusy } from "../forms.js";
import { navigate } from "../router.js";
import { announce } from "../announce.js";

const minimumLength = 10;

export function renderPassword(container) {
  const forced = mustChangePassword();
  const current = field({ label: forced ? "One-time password" : "Current password", name: "current", type: "password",
    autocomplete: "current-password", required: true, "data-autofocus": forced ? true : null });
  const fresh = field({ label: "New password", name: "new", type: "password", autocomplete: "new-password", required: true,
    minlength: String(minimumLength), hint: `At least ${minimumLength} characters, different from the current one.` });
  const again = field({ label: "New password again", name: "confirm", type: "password", autocomplete: "new-password", required: true });
  const message = messageBox();
  const save = h("button", { type: "submit", class: "btn btn-primary" }, "Change password");
  const form = h("form", { class: "form card", novalidate: true, "aria-label": "Change password" },
    h("input", { type: "email", name: "username", autocomplete: "username", value: me().agent.email, hidden: true, readonly: true }),
    current.element, fresh.element, again.element, message.element, h("div", { class: "form-actions" }, save));

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.clear();
    if (!current.input.value) { message.show("Enter your current password."); current.input.focus(); return; }
    if (fresh.input.value.length < minimumLength) {
      message.show(`The new password needs at least ${minimumLength} characters.`);
      fresh.input.focus();
      return;
    }
    if (fresh.input.value !== again.input.value) { message.show("The two new passwords differ."); again.input.focus(); return; }
    try {
      await whileBusy(save, () => post("/me/password", { current: current.input.value, new: fresh.input.value }));
      // A new login cookie came with the answer; the old one is revoked.
      loggedIn(await get("/me"));
      form.reset();
      announce("Password changed");
      if (forced) navigate("/home");
      else message.success("Password changed. Your other logins have been logged out.");
    } catch (error) {
      message.show(error);
    }
  });

  const lead = forced
    ? "You logged in with a one-time password. Choose your own password before you continue."
    : "Changing it logs you out everywhere else.";
  replaceChildren(container,
    pageHeader(forced ? "Choose your password" : "Password", lead),
    forced ? h("p", { class: "notice notice-warning", role: "note" }, "Nothing else is available until the password is changed.") : null,
    form);
}
