// Logging in and out as the page sees it: the account (account.js) and the live lobby follow the
// login; a lost login (any 401) or a logout goes back to the login page.

import { get, post, setAuthHandlers } from "./api.js";
import { me, setMe, mustChangePassword } from "./account.js";
import { lobby } from "./lobby.js";
import { navigate } from "./router.js";
import { announce } from "./announce.js";

/** After GET /me, a login or a password change: the account is known; the desk may start. */
export function loggedIn(account) {
  setMe(account);
  if (mustChangePassword()) lobby.stop();
  else lobby.restart();
}

/** Forgets the login locally and shows the login page. */
export function loggedOut() {
  lobby.stop();
  setMe(null);
  navigate("/login");
}

/** POST /logout, then the login page (also when the broker is unreachable). */
export async function logOut() {
  try {
    await post("/logout");
  } catch {
    // Logged out already, or the broker is unreachable: the page forgets the login either way.
  }
  loggedOut();
  announce("Logged out");
}

setAuthHandlers({
  unauthenticated() {
    if (me()) loggedOut();
  },
  async passwordChangeRequired() {
    try {
      setMe(await get("/me"));
    } catch {
      return;
    }
    lobby.stop();
    navigate("/settings/password");
  },
});
