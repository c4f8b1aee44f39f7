// The top bar: the product's name on the left, "Hello, <name>" on the right opening the account menu
// (Settings, Log out). The menu is a disclosure: a button with aria-expanded controlling a list; Escape
// or a click elsewhere closes it and Escape returns focus to the button.

import { me, onAccountChange, mustChangePassword } from "./account.js";
import { h, replaceChildren, uniqueID } from "./dom.js";

let logOutHandler = () => {};

/** Draws the bar now and on every account change; `onLogOut` runs when "Log out" is chosen. */
export function mountTopbar({ onLogOut }) {
  logOutHandler = onLogOut;
  render(me());
  onAccountChange(render);
}

// Closes the menu drawn last (its document listeners go with it) before the bar is drawn again.
let closeMenu = () => {};

function render(account) {
  closeMenu();
  const bar = document.getElementById("topbar");
  bar.hidden = !account;
  if (!account) { replaceChildren(bar); return; }

  const menuID = uniqueID("account-menu");
  const button = h("button", { type: "button", class: "account-button", "aria-expanded": "false", "aria-controls": menuID },
    h("span", { class: "avatar", "aria-hidden": "true" }, initials(account.agent.name)),
    h("span", { class: "account-greeting" }, "Hello, ", h("strong", { class: "account-name" }, account.agent.name)),
    h("span", { class: "chevron", "aria-hidden": "true" }));

  const entries = [
    mustChangePassword() ? null : h("li", {}, h("a", { href: "#/settings/profile", class: "menu-item" }, "Settings")),
    h("li", {}, h("button", { type: "button", class: "menu-item", onClick: () => { close(); logOutHandler(); } }, "Log out")),
  ];
  const menu = h("ul", { class: "account-menu", id: menuID, hidden: true }, entries);
  const identity = h("li", { class: "menu-identity", "aria-hidden": "true" },
    h("span", { class: "menu-identity-name" }, account.agent.name),
    h("span", { class: "menu-identity-email" }, account.agent.email));
  menu.prepend(identity);
  const wrapper = h("div", { class: "account" }, button, menu);

  function open() {
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", outside, true);
    document.addEventListener("keydown", escape);
  }
  function close() {
    menu.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside, true);
    document.removeEventListener("keydown", escape);
  }
  function outside(event) {
    if (!wrapper.contains(event.target)) close();
  }
  function escape(event) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    const focusWasInside = wrapper.contains(document.activeElement);
    close();
    if (focusWasInside || document.activeElement === document.body) button.focus();
  }
  closeMenu = close;
  button.addEventListener("click", () => (menu.hidden ? open() : close()));
  wrapper.addEventListener("focusout", (event) => {
    if (!menu.hidden && event.relatedTarget && !wrapper.contains(event.relatedTarget)) close();
  });
  menu.addEventListener("click", (event) => { if (event.target.closest("a")) close(); });

  const organisation = account.organisation ? h("span", { class: "brand-organisation" }, account.organisation) : null;
  replaceChildren(bar,
    h("a", { href: "#/home", class: "brand" },
      h("img", { src: "/console/img/logo.svg", alt: "", width: "28", height: "28" }),
      h("span", { class: "brand-name" }, "Remote support"), organisation),
    wrapper);
}

function initials(name) {
  const parts = String(name ?? "").trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? "?").slice(0, 2);
  return letters.toUpperCase();
}
