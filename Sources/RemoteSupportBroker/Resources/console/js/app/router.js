// Hash routes (#/home, #/settings/profile, #/view/<id>, ...): one page at a time in <main>.
//
// Guards, in order: logged out -> #/login; logged in on #/login -> #/home; a default password still to
// change -> #/settings/password and nothing else; admin pages -> #/home for agents.
// A page is `render(container, params, page)`; `page.onLeave(fn)` registers clean-up (timers, streams,
// the viewer) run when the route changes, and `page.isCurrent()` tells an async step whether its page
// is still shown. Each render gets a fresh container, so late answers of a left page land nowhere.

import { me, isAdmin, mustChangePassword } from "./account.js";
import { h, replaceChildren } from "./dom.js";
import { renderSidenav } from "./sidenav.js";

const routes = [];
let leaving = [];
let generation = 0;

/**
 * Adds a route. `path` is a pattern like "/view/:id"; options: `section` (the left menu shown: "desk",
 * "settings" or null), `title`, `public` (reachable logged out), `admin`, `whilePasswordForced`, `wide`
 * (no left menu, the whole area).
 */
export function route(path, render, options = {}) {
  const names = [];
  const pattern = new RegExp("^" + path.replace(/:([a-z]+)/gi, (_, name) => { names.push(name); return "([^/]+)"; }) + "$");
  routes.push({ path, pattern, names, render, ...options });
}

/** The current route's path ("/home" for "#/home"). */
export function currentPath() {
  const path = decodeURIComponent(window.location.hash.replace(/^#/, "")) || "/";
  return path.startsWith("/") ? path : "/" + path;
}

/** Goes to `path` ("/home"); renders again when it is already there. */
export function navigate(path) {
  if (currentPath() === path) show();
  else window.location.hash = "#" + path;
}

export function start() {
  window.addEventListener("hashchange", show);
  show();
}

function match(path) {
  for (const candidate of routes) {
    const found = candidate.pattern.exec(path);
    if (found) {
      const params = Object.fromEntries(candidate.names.map((name, index) => [name, found[index + 1]]));
      return { route: candidate, params };
    }
  }
  return null;
}

/** Where a guard sends `path`, or null when it may be shown. */
function redirection(path, target) {
  if (!me()) return target?.route.public ? null : "/login";
  if (mustChangePassword()) return target?.route.whilePasswordForced ? null : "/settings/password";
  if (!target || target.route.public) return "/home";
  if (target.route.admin && !isAdmin()) return "/home";
  return null;
}

function show() {
  const path = currentPath();
  const target = match(path);
  const elsewhere = redirection(path, target);
  if (elsewhere) {
    // Replace, not push: Back must not return to a page the guard refused.
    window.history.replaceState(null, "", "#" + elsewhere);
    return show();
  }

  for (const cleanup of leaving.splice(0)) {
    try { cleanup(); } catch (error) { console.error("page clean-up failed", error); }
  }
  generation += 1;
  const mine = generation;
  const page = {
    onLeave(cleanup) { leaving.push(cleanup); },
    isCurrent() { return mine === generation; },
  };

  const { route: found, params } = target;
  document.title = (found.title ? found.title + " · " : "") + "Remote support console";
  document.body.classList.toggle("is-wide", Boolean(found.wide));
  document.body.classList.toggle("is-public", Boolean(found.public));
  renderSidenav(found.section ?? null, path);

  const main = document.getElementById("main");
  const container = h("div", { class: "page" });
  replaceChildren(main, container);
  Promise.resolve(found.render(container, params, page))
    .catch((error) => {
      console.error(error);
      if (page.isCurrent()) replaceChildren(container, h("p", { class: "notice notice-error", role: "alert" }, "This page could not be shown: " + (error?.message ?? error)));
    });
  focusPage(container, page);
}

/**
 * Moves focus to the new page's autofocus field, else its heading, so keyboard and screen-reader users
 * start there. On the first load only an autofocus field takes it (the browser's own start is fine).
 */
function focusPage(container, page) {
  const first = !moved;
  moved = true;
  requestAnimationFrame(() => {
    if (!page.isCurrent()) return;
    const field = container.querySelector("[data-autofocus]");
    const heading = container.querySelector("h1");
    const target = field ?? (first ? null : heading);
    if (!target) return;
    if (target === heading) target.setAttribute("tabindex", "-1");
    target.focus();
  });
}
let moved = false;
