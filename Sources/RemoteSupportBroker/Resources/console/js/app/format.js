// How times, durations, codes and the API's enumerations read in the console.

/** "0:07", "12:34", "1:02:03" for a duration in milliseconds (negative counts as 0). */
export function duration(milliseconds) {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** "3 min 20 s" style, for screen readers and titles. */
export function spokenDuration(milliseconds) {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes > 0 ? `${minutes} min ${seconds} s` : `${seconds} s`;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "medium" });

/** A local date and time for an RFC 3339 string ("" for none). */
export function dateAndTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

const shortThisYear = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const shortOtherYear = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

/** A compact local date and time for tables ("Nov 25, 10:02 AM"; the year only when not this one). */
export function shortDateAndTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (date.getFullYear() === new Date().getFullYear() ? shortThisYear : shortOtherYear).format(date);
}

/** A local time of day for an RFC 3339 string. */
export function time(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : timeOnly.format(date);
}

/** "123 456" for six digits. */
export function connectionCode(digits) {
  const text = String(digits).replace(/\D/g, "");
  return text.length === 6 ? `${text.slice(0, 3)} ${text.slice(3)}` : text;
}

const joinMethods = { "personal-link": "Personal link", invitation: "Invitation", "connection-id": "Connection ID" };
export function joinMethod(method) {
  return joinMethods[method] ?? method;
}

const statuses = { waiting: "Waiting", connected: "Connected", ended: "Ended", cancelled: "Cancelled", expired: "Expired" };
export function sessionStatus(status) {
  return statuses[status] ?? status;
}

/** "agent-ended" -> "Agent ended". */
export function reason(text) {
  if (!text) return "";
  const words = String(text).replace(/[-_]/g, " ");
  return words[0].toUpperCase() + words.slice(1);
}

/** An RFC 3339 string in UTC for a `datetime-local` input's value ("" stays ""). */
export function localInputToISO(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? "" : date.toISOString();
}
