// #/view/<sessionId>: checks the session may be connected (POST /sessions/<id>/connect -> {session,
// webSocketURL}) and shows the end user's screen in the whole content area with the viewer component
// (js/viewer/viewer.js, its own author's: mountViewer(container, {sessionId, webSocketURL, mode,
// onExit}) -> {destroy()}). When the viewer exits, back to #/home; leaving the page destroys it.

import { post } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { navigate } from "../router.js";
import { announce } from "../announce.js";

export async function renderView(container, params, page) {
  const sessionId = params.id;
  const status = h("p", { class: "view-status", role: "status" }, "Connecting…");
  const title = h("h1", { class: "view-title" }, "Remote screen");
  const back = h("a", { href: "#/home", class: "btn btn-ghost" }, "← Back to waiting sessions");
  const header = h("div", { class: "view-bar" }, title, status, back);
  const stage = h("div", { class: "viewer-host", "aria-label": "Remote screen" });
  replaceChildren(container, h("div", { class: "view" }, header, stage));

  let connection;
  try {
    connection = await post(`/sessions/${encodeURIComponent(sessionId)}/connect`);
  } catch (error) {
    if (!page.isCurrent()) return;
    const text = error.status === 404
      ? "This session is no longer waiting: the end user left, or another agent connected."
      : error.message;
    fail(text);
    return;
  }
  if (!page.isCurrent()) return;

  const session = connection.session;
  const who = session.displayName || session.endUser?.name || "end user";
  title.textContent = `Session with ${who}`;
  if (session.ticket) title.append(h("span", { class: "subtle" }, "Ticket " + session.ticket));

  let viewer;
  try {
    viewer = await import("../../viewer/viewer.js");
  } catch (error) {
    console.error(error);
    if (page.isCurrent()) fail("The remote-screen viewer is not available on this broker (js/viewer/viewer.js could not be loaded).");
    return;
  }
  if (!page.isCurrent()) return;
  if (typeof viewer.mountViewer !== "function") {
    fail("The remote-screen viewer is not available on this broker (js/viewer/viewer.js has no mountViewer).");
    return;
  }

  let exited = false;
  status.textContent = "";
  let mounted;
  try {
    mounted = viewer.mountViewer(stage, {
      sessionId,
      webSocketURL: connection.webSocketURL,
      mode: "control",
      onExit(result) {
        if (exited) return;
        exited = true;
        announce(`Session with ${who} ended`);
        if (page.isCurrent()) navigate("/home");
      },
    });
  } catch (error) {
    console.error(error);
    fail("The viewer could not start: " + (error?.message ?? error));
    return;
  }
  // The viewer has its own title and exit buttons: it gets the whole area.
  header.hidden = true;
  announce(`Connecting to ${who}`);
  page.onLeave(() => {
    exited = true;
    // The viewer's unmount, in whichever shape it comes: a function, or an object with one.
    Promise.resolve(mounted).then((handle) => {
      const unmount = typeof handle === "function" ? handle : handle?.unmount ?? handle?.destroy ?? handle?.close;
      if (typeof unmount === "function") unmount.call(handle);
    }).catch(() => {});
  });

  function fail(text) {
    header.hidden = false;
    status.textContent = "";
    replaceChildren(stage, h("div", { class: "view-error" },
      h("p", { class: "notice notice-error", role: "alert" }, text),
      h("a", { href: "#/home", class: "btn btn-primary" }, "Back to waiting sessions")));
  }
}
