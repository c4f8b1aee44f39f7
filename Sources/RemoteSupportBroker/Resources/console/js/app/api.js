// The broker's HTTP JSON API (/api/v1, described by /openapi.yaml), used with the login cookie.
//
// Every request goes with `credentials: "same-origin"` (the HttpOnly `rs_login` cookie); every change
// (any method but GET) carries `X-Requested-By: console`, which the broker requires of cookie logins
// (CSRF). The login token in response bodies is never stored.
//
// Errors come back as `ApiError` with the API's stable `code` (`invalid-field`, `forbidden`, ...) and
// its `message` for people. A 401 other than a wrong password, and a 403 `password-change-required`,
// are also handed to the handlers set with `setAuthHandlers` (back to login / to the password page).

const BASE = "/api/v1";

/** An error answered by the API (or `network` when the broker could not be reached). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let handlers = { unauthenticated() {}, passwordChangeRequired() {} };

/** Where 401s and `password-change-required` go (set once by main.js). */
export function setAuthHandlers(next) {
  handlers = { ...handlers, ...next };
}

/**
 * Calls the API. `path` is below /api/v1; `query` an object whose empty values are left out.
 * Resolves to the parsed JSON body (null for 204); rejects with ApiError.
 */
export async function request(method, path, { body, query } = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-Requested-By"] = "console";
  if (body !== undefined) headers["Content-Type"] = "application/json";

  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "The broker could not be reached. Check the connection and try again.");
  }

  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (response.ok) return data;

  const error = new ApiError(
    response.status,
    data?.error ?? "http-" + response.status,
    data?.message ? sentence(data.message) : `The broker answered ${response.status} ${response.statusText}.`,
    data?.retryAfter ?? numberOrUndefined(response.headers.get("Retry-After")),
  );
  if (response.status === 401 && error.code !== "invalid-credentials") handlers.unauthenticated(error);
  if (response.status === 403 && error.code === "password-change-required") handlers.passwordChangeRequired(error);
  throw error;
}

export const get = (path, query) => request("GET", path, { query });
export const post = (path, body = {}) => request("POST", path, { body });
export const patch = (path, body) => request("PATCH", path, { body });
export const del = (path) => request("DELETE", path);

/** The API's messages are lower-case phrases; shown as sentences. */
function sentence(text) {
  const trimmed = String(text).trim();
  if (!trimmed) return trimmed;
  const capitalised = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : capitalised + ".";
}

function numberOrUndefined(text) {
  const value = Number.parseInt(text ?? "", 10);
  return Number.isFinite(value) ? value : undefined;
}

/** A message for people, with the wait of a 429. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return "Something went wrong: " + (error?.message ?? String(error));
  if (error.code === "rate-limited" && error.retryAfter) {
    return `${error.message} Try again in ${error.retryAfter} second${error.retryAfter === 1 ? "" : "s"}.`;
  }
  return error.message;
}
