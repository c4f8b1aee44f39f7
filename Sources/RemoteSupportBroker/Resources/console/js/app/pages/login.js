// #/login: e-mail and password. A default password goes on to the forced password change.

import { get, post } from "../api.js";
import { loggedIn } from "../auth.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, whileBusy } from "../forms.js";
import { navigate } from "../router.js";

export function renderLogin(container) {
  const email = field({ label: "E-mail", name: "email", type: "email", autocomplete: "username", required: true, "data-autofocus": true });
  const password = field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const message = messageBox();
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Log in");

  const form = h("form", { class: "form", novalidate: true, "aria-labelledby": "login-title" },
    email.element, password.element, message.element, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.clear();
    if (!email.input.value.trim() || !password.input.value) {
      message.show("Enter your e-mail address and password.");
      (email.input.value.trim() ? password.input : email.input).focus();
      return;
    }
    try {
      const login = await whileBusy(submit, () => post("/login", { email: email.input.value.trim(), password: password.input.value }));
      // The token in the answer is not kept: the HttpOnly cookie carries the login.
      const account = await get("/me").catch(() => ({ agent: login.agent, mustChangePassword: login.mustChangePassword, organisation: "" }));
      loggedIn(account);
      navigate(account.mustChangePassword ? "/settings/password" : "/home");
    } catch (error) {
      message.show(error);
      password.input.select();
    }
  });

  replaceChildren(container,
    h("div", { class: "login" },
      h("div", { class: "login-card card" },
        h("div", { class: "login-brand" },
          h("img", { src: "/console/img/logo.svg", alt: "", width: "40", height: "40" }),
          h("span", {}, "Remote support")),
        h("h1", { id: "login-title" }, "Log in to the console"),
        h("p", { class: "lead" }, "For helpdesk agents. End users join through the link or connection ID their agent gives them."),
        form)));
}
