// #/invite: the link to send an end user. Empty ticket and name: the agent's personal link
// (GET /me/link). As either is typed (debounced), an invitation link carrying them
// (POST /invitations). Copy, Shorten (POST /short-links) and E-mail (POST /emails through the broker's
// mail relay; without one, a mailto: link with the same text).

import { get, post, ApiError } from "../api.js";
import { me } from "../account.js";
import { h, replaceChildren } from "../dom.js";
import { field, messageBox, pageHeader, whileBusy } from "../forms.js";
import { copyButton, selectContents } from "../clipboard.js";
import { dateAndTime } from "../format.js";

const typingPause = 400;

export function renderInvite(container, _params, page) {
  const ticket = field({ label: "Ticket number", name: "ticket", autocomplete: "off", maxlength: "200", hint: "Optional. Shown to you when they join." });
  const name = field({ label: "End user's name", name: "endUserName", autocomplete: "off", maxlength: "200", hint: "Optional. Shown to them on the page the link opens." });

  const link = h("input", { id: "invite-link", class: "link-output", type: "text", readonly: true, "aria-describedby": "invite-link-about", spellcheck: "false" });
  const about = h("p", { class: "hint", id: "invite-link-about", "aria-live": "polite" });
  const linkMessage = messageBox();
  const shorten = h("button", { type: "button", class: "btn btn-secondary" }, "Shorten");
  const copy = copyButton({ text: () => link.value, select: () => selectContents(link), describedBy: "invite-link" });

  const shortLink = h("input", { id: "short-link", class: "link-output", type: "text", readonly: true, spellcheck: "false" });
  const shortAbout = h("p", { class: "hint" });
  const shortRow = h("div", { class: "short-link", hidden: true },
    h("label", { for: "short-link" }, "Short link"),
    h("div", { class: "output-row" }, shortLink,
      copyButton({ text: () => shortLink.value, select: () => selectContents(shortLink), describedBy: "short-link" })),
    shortAbout);

  const recipient = field({ label: "End user's e-mail", name: "to", type: "email", autocomplete: "off" });
  const send = h("button", { type: "submit", class: "btn btn-primary" }, "Send by e-mail");
  const mailMessage = messageBox();
  const mailFallback = h("div", { class: "mail-fallback", hidden: true });
  const mailForm = h("form", { class: "inline-form", novalidate: true, "aria-label": "Send the link by e-mail" },
    recipient.element, h("div", { class: "form-actions" }, send));

  replaceChildren(container,
    pageHeader("Invite", "Send an end user a link: it opens a page that tells them who will help and how to start."),
    h("section", { class: "card", "aria-labelledby": "invite-link-title" },
      h("h2", { id: "invite-link-title" }, "Link"),
      h("div", { class: "field-row" }, ticket.element, name.element),
      h("div", { class: "link-box" },
        h("label", { for: "invite-link" }, "Link to send"),
        h("div", { class: "output-row" }, link, copy, shorten),
        about),
      linkMessage.element,
      shortRow),
    h("section", { class: "card", "aria-labelledby": "invite-mail-title" },
      h("h2", { id: "invite-mail-title" }, "E-mail it"),
      mailForm, mailMessage.element, mailFallback));

  // The link shown follows what is typed; answers of older requests are dropped.
  let personalLink = "";
  let request = 0;
  let timer = null;

  function setLink(value, description) {
    link.value = value;
    about.textContent = description;
    shortRow.hidden = true;
    shortLink.value = "";
  }

  function linkReady(ready) {
    shorten.disabled = !ready;
    link.setAttribute("aria-busy", ready ? "false" : "true");
  }

  async function update() {
    const mine = ++request;
    const ticketText = ticket.input.value.trim();
    const nameText = name.input.value.trim();
    linkMessage.clear();
    try {
      if (!ticketText && !nameText) {
        if (!personalLink) personalLink = (await get("/me/link")).link;
        if (mine !== request || !page.isCurrent()) return;
        setLink(personalLink, "Your personal link: it does not expire, and whoever opens it joins your waiting list.");
      } else {
        const invitation = await post("/invitations", { ticket: ticketText || null, endUserName: nameText || null });
        if (mine !== request || !page.isCurrent()) return;
        setLink(invitation.link, `Invitation link, valid until ${dateAndTime(invitation.expires)}.`);
      }
      linkReady(true);
    } catch (error) {
      if (mine !== request || !page.isCurrent()) return;
      linkMessage.show(error);
    }
  }

  function typed() {
    clearTimeout(timer);
    linkReady(false);
    timer = setTimeout(update, typingPause);
  }
  ticket.input.addEventListener("input", typed);
  name.input.addEventListener("input", typed);
  page.onLeave(() => clearTimeout(timer));

  shorten.addEventListener("click", async () => {
    linkMessage.clear();
    const target = link.value;
    try {
      const short = await whileBusy(shorten, () => post("/short-links", { link: target }));
      if (link.value !== target || !page.isCurrent()) return;
      shortLink.value = short.url;
      shortAbout.textContent = `Valid until ${dateAndTime(short.expires)}.`;
      shortRow.hidden = false;
      shortLink.focus();
      shortLink.select();
    } catch (error) {
      linkMessage.show(error);
    }
  });

  mailForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    mailMessage.clear();
    mailFallback.hidden = true;
    const to = recipient.input.value.trim();
    if (!to || !recipient.input.checkValidity()) {
      mailMessage.show("Enter the end user's e-mail address.");
      recipient.input.focus();
      return;
    }
    const sentLink = shortLink.value || link.value;
    try {
      const sent = await whileBusy(send, () => post("/emails", { to, link: link.value }));
      mailMessage.success(`Sent to ${to}: “${sent.subject}”.`);
    } catch (error) {
      if (isNoMailRelay(error)) offerMailto(to, sentLink);
      else mailMessage.show(error);
    }
  });

  function offerMailto(to, sentLink) {
    const agent = me().agent;
    const greeting = name.input.value.trim() ? `Hello ${name.input.value.trim()},` : "Hello,";
    const ticketLine = ticket.input.value.trim() ? ` about ticket ${ticket.input.value.trim()}` : "";
    const subject = `Remote support from ${agent.name}`;
    const body = [greeting, "",
      `To let me help you${ticketLine} on your computer, please open this link and follow the steps on the page:`,
      sentLink, "", agent.name, agent.jobTitle].filter((line) => line !== undefined).join("\n");
    const href = `mailto:${encodeURIComponent(to)}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}`;
    replaceChildren(mailFallback,
      h("p", {}, "This broker has no mail relay, so it cannot send the e-mail itself. Send it from your own mail program instead:"),
      h("a", { class: "btn btn-primary", href }, "Open in my mail program"));
    mailFallback.hidden = false;
    mailFallback.querySelector("a").focus();
  }

  linkReady(false);
  update();
}

/** The broker answers 503 `not-configured` when it has no SMTP relay. */
function isNoMailRelay(error) {
  return error instanceof ApiError && error.status === 503 && error.code === "not-configured";
}
