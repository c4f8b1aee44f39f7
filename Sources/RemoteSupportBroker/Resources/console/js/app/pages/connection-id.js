// #/connection-id: a 6-digit code an end user types into their client (POST /connection-ids), shown
// large ("123 456") with its remaining validity counting down and a Copy button, and the agent's live
// codes (GET /connection-ids), each counting down and leaving the list when it expires.

import { get, post } from "../api.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, pageHeader, whileBusy } from "../forms.js";
import { copyButton, selectContents } from "../clipboard.js";
import { connectionCode, duration, spokenDuration } from "../format.js";

export function renderConnectionID(container, _params, page) {
  const ticket = field({ label: "Ticket number", name: "ticket", autocomplete: "off", maxlength: "200", hint: "Optional" });
  const name = field({ label: "End user's name", name: "endUserName", autocomplete: "off", maxlength: "200", hint: "Optional" });
  const issue = h("button", { type: "submit", class: "btn btn-primary" }, "Issue a connection ID");
  const message = messageBox();
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": "Issue a connection ID" },
    h("div", { class: "field-row" }, ticket.element, name.element), h("div", { class: "form-actions" }, issue));

  const current = h("div", { class: "code-display", hidden: true });
  const liveList = h("div", { class: "live-codes" });

  replaceChildren(container,
    pageHeader("Share a connection ID", "The end user types this code into the support client, for example over the phone. It works once and for a short time."),
    h("section", { class: "card", "aria-labelledby": "issue-title" },
      h("h2", { id: "issue-title" }, "New connection ID"), form, message.element, current),
    h("section", { class: "card", "aria-labelledby": "live-title" },
      h("h2", { id: "live-title" }, "Your live connection IDs"), liveList));

  // Elements whose text counts down to an expiry: element -> { expires, code }.
  const countdowns = new Map();
  let codes = [];

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.clear();
    try {
      const code = await whileBusy(issue, () => post("/connection-ids", {
        ticket: ticket.input.value.trim() || null,
        endUserName: name.input.value.trim() || null,
      }));
      if (!page.isCurrent()) return;
      showIssued(code);
      codes = [code, ...codes.filter((other) => other.digits !== code.digits)];
      showList();
    } catch (error) {
      message.show(error);
    }
  });

  function showIssued(code) {
    const digits = h("p", { class: "code", id: "issued-code", "aria-label": "Connection ID " + code.digits.split("").join(" ") },
      connectionCode(code.digits));
    const remaining = h("p", { class: "code-validity", "aria-live": "off" });
    countdowns.set(remaining, { expires: Date.parse(code.expires), prefix: "Valid for ", expired: "Expired: issue a new one." });
    replaceChildren(current,
      digits,
      remaining,
      h("div", { class: "code-actions" }, copyButton({ text: () => code.digits, select: () => selectContents(digits), describedBy: "issued-code" })),
      (code.ticket || code.endUserName)
        ? h("p", { class: "hint" }, [code.endUserName ? "For " + code.endUserName : null, code.ticket ? "Ticket " + code.ticket : null].filter(Boolean).join(" · "))
        : null);
    current.hidden = false;
    tick();
  }

  function showList() {
    for (const [element, countdown] of countdowns) if (countdown.inList) countdowns.delete(element);
    const now = Date.now();
    codes = codes.filter((code) => Date.parse(code.expires) > now);
    if (codes.length === 0) {
      replaceChildren(liveList, h("p", { class: "muted" }, "None at the moment."));
      return;
    }
    const rows = codes.map((code) => {
      const left = h("td", { "data-label": "Valid for", class: "numeric" });
      countdowns.set(left, { expires: Date.parse(code.expires), prefix: "", expired: "Expired", inList: true });
      return h("tr", {},
        h("th", { scope: "row", "data-label": "Code" }, h("span", { class: "code-small" }, connectionCode(code.digits))),
        h("td", { "data-label": "End user" }, code.endUserName || h("span", { class: "muted" }, "—")),
        h("td", { "data-label": "Ticket" }, code.ticket || h("span", { class: "muted" }, "—")),
        left);
    });
    replaceChildren(liveList, h("table", { class: "table table-cards" },
      h("caption", { class: "visually-hidden" }, "Your live connection IDs"),
      h("thead", {}, h("tr", {}, ["Code", "End user", "Ticket", "Valid for"].map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows)));
    tick();
  }

  function tick() {
    const now = Date.now();
    let someExpired = false;
    for (const [element, countdown] of countdowns) {
      const left = countdown.expires - now;
      if (left <= 0) {
        element.textContent = countdown.expired;
        element.classList.add("is-expired");
        if (countdown.inList) someExpired = true;
        else countdowns.delete(element);
      } else {
        element.textContent = countdown.prefix + duration(left);
        element.title = spokenDuration(left) + " left";
      }
    }
    if (someExpired) showList();
  }

  const timer = setInterval(tick, 1000);
  page.onLeave(() => clearInterval(timer));

  get("/connection-ids").then(({ connectionIDs }) => {
    if (!page.isCurrent()) return;
    const known = new Set(codes.map((code) => code.digits));
    codes = [...codes, ...connectionIDs.filter((code) => !known.has(code.digits))]
      .sort((a, b) => b.created.localeCompare(a.created));
    showList();
  }).catch((error) => { if (page.isCurrent()) message.show(error); });
}
