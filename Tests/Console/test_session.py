"""A whole support session from the operator console, in headless Chromium: the agent issues a
connection ID, the end user's program (rs-client, scripted with --accept control) joins with it and
appears in the waiting list without a reload, Connect shows the end user's screen in the page (the
canvas' pixels equal the frame rs-client shared, --frame-out), a click and a typed key reach the end
user (rs-client --events), the screen they changed arrives, and End session ends it on both sides.

    RS_BROKER_BIN=.build/debug/rs-broker python3 Tests/Console/test_session.py
"""

import base64
import json
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_console import CHECKS, REPO, SLOW_WAIT, WAIT, ConsoleTestCase  # noqa: E402

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CLIENT_BIN = Path(os.environ.get("RS_CLIENT_BIN", REPO / ".build/debug/rs-client"))
END_USER = "Erin <b>Example</b>"   # markup in a name: shown as text
WIDTH, HEIGHT = 320, 200


class EndUserClient:
    """rs-client as a process: events (JSON lines) collected from stdout, commands on stdin."""

    def __init__(self, code, broker_url, frame_file, accept="control"):
        self.frame_file = frame_file
        self.events = queue.Queue()
        self.seen = []
        self.process = subprocess.Popen(
            [str(CLIENT_BIN), "--code", code, "--broker", broker_url, "--name", END_USER, "--machine", "erin-laptop",
             "--accept", accept, "--events", "--synthetic", f"{WIDTH}x{HEIGHT}", "--frame-out", str(frame_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.errors = []
        threading.Thread(target=lambda: self.errors.extend(self.process.stderr), daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                pass

    def next(self, predicate, timeout=WAIT):
        """The first event (seen or coming) that matches, or None after `timeout`."""
        for event in self.seen:
            if predicate(event):
                self.seen.remove(event)
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            if predicate(event):
                return event
            self.seen.append(event)
        return None

    def frame_rgb(self):
        """The last frame rs-client shared: RGB bytes, or None."""
        try:
            data = self.frame_file.read_bytes()
        except OSError:
            return None
        header = data.split(b"\n", 3)
        return header[3] if len(header) == 4 else None

    def wait_exit(self, timeout=WAIT):
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.wait_exit(5)


class MailSink:
    """A minimal SMTP server on loopback (plain SMTP, what the broker speaks to `smtp://`): keeps every
    message it is given."""

    def __init__(self):
        self.messages = queue.Queue()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(connection,), daemon=True).start()

    def _session(self, connection):
        with connection, connection.makefile("rb") as lines:
            def say(text):
                connection.sendall(text.encode() + b"\r\n")
            say("220 mail-sink ready")
            envelope = {"to": []}
            for raw in lines:
                command = raw.decode(errors="replace").strip()
                verb = command.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    say("250 mail-sink")
                elif verb == "MAIL":
                    envelope = {"from": command, "to": []}
                    say("250 OK")
                elif verb == "RCPT":
                    envelope["to"].append(command)
                    say("250 OK")
                elif verb == "DATA":
                    say("354 end with <CRLF>.<CRLF>")
                    body = []
                    for line in lines:
                        if line in (b".\r\n", b".\n"):
                            break
                        body.append(line.decode(errors="replace"))
                    envelope["data"] = "".join(body)
                    self.messages.put(envelope)
                    say("250 OK queued")
                elif verb == "QUIT":
                    say("221 bye")
                    return
                else:
                    say("250 OK")

    def stop(self):
        self.server.close()


class InvitationEmail(ConsoleTestCase):
    """E-mail through the broker's mail relay (a broker with --smtp-url): the end user's mail carries the
    invitation link."""

    @classmethod
    def setUpClass(cls):
        cls.mail = MailSink()
        cls.broker_arguments = ["--smtp-url", f"smtp://127.0.0.1:{cls.mail.port}", "--mail-from", "support@example.com"]
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.mail.stop()

    def test_invitation_is_emailed_through_the_relay(self):
        ConsoleTestCase.admin_password = None   # a new broker: its own first password
        self.first_admin_ready()
        self.go("/invite")
        self.on_page("/invite", "Invite")
        link = self.driver.find_element(By.ID, "invite-link")
        personal = self.wait_for(lambda d: link.get_attribute("value"), "the personal link is shown")
        self.fill("Ticket number", "T-9")
        self.fill("End user's name", "Frank")
        invitation = self.wait_for(lambda d: (v := link.get_attribute("value")) != personal and "ticket=" in v and v,
                                   "an invitation link")
        self.fill("End user's e-mail", "frank@example.org")
        self.button("Send by e-mail").click()
        self.wait_for(lambda d: "Sent to frank@example.org" in d.find_element(By.CSS_SELECTOR, "main").text,
                      "the console says the e-mail was sent")
        try:
            mail = self.mail.messages.get(timeout=WAIT)
        except queue.Empty:
            mail = None
        self.check(mail, "the relay received the e-mail")
        self.check(any("frank@example.org" in r for r in mail["to"]), f"addressed to the end user: {mail['to']}")
        body = mail["data"].replace("=\r\n", "").replace("=\n", "")
        self.check(invitation.split("?")[0] in body, "the e-mail carries the invitation link")
        self.check(not self.driver.find_elements(By.CSS_SELECTOR, ".mail-fallback a"), "no mailto: fallback with a relay")
        self.screenshot("34-invite-emailed")


class SupportSession(ConsoleTestCase):

    def canvas_rgb(self):
        """The viewer canvas' pixels as RGB bytes (its backing store is the remote screen's size)."""
        data = self.driver.execute_script("""
            const canvas = document.querySelector('.viewer-host canvas');
            if (!canvas || !canvas.width) return null;
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            const rgb = new Uint8Array(canvas.width * canvas.height * 3);
            for (let i = 0, j = 0; i < pixels.length; i += 4) { rgb[j++] = pixels[i]; rgb[j++] = pixels[i + 1]; rgb[j++] = pixels[i + 2]; }
            let text = '';
            for (let i = 0; i < rgb.length; i += 0x8000) text += String.fromCharCode.apply(null, rgb.subarray(i, i + 0x8000));
            return [canvas.width, canvas.height, btoa(text)];
        """)
        if not data:
            return None
        width, height, encoded = data
        return (width, height, base64.b64decode(encoded))

    def screen_matches(self, client):
        canvas, sent = self.canvas_rgb(), client.frame_rgb()
        return canvas is not None and sent is not None and canvas[:2] == (WIDTH, HEIGHT) and canvas[2] == sent

    def viewer_state(self):
        hosts = self.driver.find_elements(By.CSS_SELECTOR, ".viewer-host")
        return hosts[0].get_attribute("data-viewer-state") if hosts else None

    def test_connection_id_session_end_to_end(self):
        self.first_admin_ready()

        # The agent shares a connection ID.
        self.go("/connection-id")
        self.on_page("/connection-id", "Share a connection ID")
        self.button("Issue a connection ID").click()
        code = self.wait_for(lambda d: [e for e in d.find_elements(By.ID, "issued-code") if e.is_displayed() and e.text],
                             "a connection ID is issued")[0].text.replace(" ", "")

        # The home list, live; a marker that a reload would lose.
        self.go("/home")
        self.on_page("/home", "Waiting sessions")
        self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, ".live-status").text == "Live", "the lobby stream is live")
        self.driver.execute_script("window.__noReload = 'still here'")

        frame_file = Path(tempfile.mkdtemp(prefix="rs-console-session-")) / "screen.ppm"
        client = EndUserClient(code, self.broker.url, frame_file)
        try:
            joined = client.next(lambda e: e.get("event") == "joined")
            self.check(joined, f"rs-client joined with the code; it said {''.join(client.errors)[-500:]}")
            row = self.wait_for(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "main tbody tr") if END_USER in r.text],
                                "the end user appears in the waiting list")[0]
            self.check(self.driver.execute_script("return window.__noReload") == "still here", "without a reload")
            self.check("erin-laptop" in row.text, "with the machine's name")
            self.check(not self.driver.find_elements(By.CSS_SELECTOR, "main tbody b"), "the name's markup is text")
            self.screenshot("30-session-waiting")

            # Connect: the end user is asked, accepts (scripted); the screen shows in the page.
            row.find_element(By.XPATH, ".//button[normalize-space()='Connect']").click()
            asked = client.next(lambda e: e.get("event") == "connect-requested")
            self.check(asked and asked.get("mode") == 2, f"the end user is asked for control: {asked}")
            started = client.next(lambda e: e.get("event") == "session-started")
            self.check(started, "the session started at the end user")
            self.wait_for(lambda d: self.viewer_state() == "connected", "the viewer is connected", SLOW_WAIT)
            sas = self.driver.find_element(By.CSS_SELECTOR, ".viewer-host").get_attribute("data-sas") or ""
            self.check(re.sub(r"\D", "", sas) == started["sas"].replace(" ", ""),
                       f"the page shows the same security code as the end user ({sas!r} vs {started['sas']!r})")
            self.wait_for(lambda d: self.screen_matches(client), "the canvas shows exactly the frame the end user shared", SLOW_WAIT)
            self.check(END_USER in self.driver.find_element(By.CSS_SELECTOR, ".viewer-host").text,
                       "the banner names the end user (as text)")
            self.screenshot("31-session-connected")

            # A click and a key reach the end user.
            canvas = self.driver.find_element(By.CSS_SELECTOR, ".viewer-host canvas")
            box = canvas.rect
            ActionChains(self.driver).move_to_element_with_offset(canvas, int(-box["width"] / 4), int(-box["height"] / 4)).click().perform()
            click = client.next(lambda e: e.get("event") == "pointer" and e.get("buttons") == 1)
            self.check(click, "the click reached the end user")
            # A quarter of the way in from the top left, in remote pixels (give or take the rounding of scaling).
            self.check(abs(click["x"] - WIDTH / 4) <= 3 and abs(click["y"] - HEIGHT / 4) <= 3,
                       f"at the right place: {click['x']},{click['y']} for {WIDTH / 4},{HEIGHT / 4}")
            release = client.next(lambda e: e.get("event") == "pointer" and e.get("buttons") == 0)
            self.check(release, "the release reached the end user")
            ActionChains(self.driver).send_keys("a").perform()
            key = client.next(lambda e: e.get("event") == "key" and e.get("keysym") == 0x61 and e.get("down"))
            self.check(key, "the typed key reached the end user as keysym 0x61")
            up = client.next(lambda e: e.get("event") == "key" and e.get("keysym") == 0x61 and not e.get("down"))
            self.check(up, "and its release")
            # The end user's screen changed (a cross and a typed block): the canvas follows.
            self.wait_for(lambda d: self.screen_matches(client), "the canvas shows the screen the input changed", SLOW_WAIT)
            self.screenshot("32-session-after-input")

            # Chat from the end user shows as text.
            client.process.stdin.write("chat hello <i>agent</i>\n")
            client.process.stdin.flush()
            self.wait_for(lambda d: "hello <i>agent</i>" in d.find_element(By.CSS_SELECTOR, ".viewer-host").text,
                          "the end user's chat line shows as text")

            # End session: both sides hear it, and the page goes back to the list.
            self.button("End session").click()
            ended = client.next(lambda e: e.get("event") == "session-ended")
            self.check(ended and ended.get("reason") == 2, f"the end user hears the agent ended it: {ended}")
            self.check(client.wait_exit() == 0, "rs-client exits cleanly")
            self.on_page("/home", "Waiting sessions")
            self.screenshot("33-session-ended")
        finally:
            client.stop()

    def test_view_only_until_the_end_user_grants_control(self):
        self.first_admin_ready()
        self.go("/connection-id")
        self.on_page("/connection-id", "Share a connection ID")
        self.button("Issue a connection ID").click()
        self.wait_for(lambda d: [e for e in d.find_elements(By.ID, "issued-code") if e.is_displayed() and e.text], "a new code")
        code = self.driver.find_element(By.ID, "issued-code").text.replace(" ", "")
        self.go("/home")
        self.on_page("/home", "Waiting sessions")
        client = EndUserClient(code, self.broker.url, Path(tempfile.mkdtemp(prefix="rs-console-view-")) / "screen.ppm", accept="view")
        try:
            row = self.wait_for(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, "main tbody tr") if END_USER in r.text],
                                "the end user appears")[0]
            row.find_element(By.XPATH, ".//button[normalize-space()='Connect']").click()
            started = client.next(lambda e: e.get("event") == "session-started")
            self.check(started and started.get("mode") == 1, f"the end user granted view only: {started}")
            host = lambda: self.driver.find_element(By.CSS_SELECTOR, ".viewer-host")
            self.wait_for(lambda d: self.viewer_state() == "connected" and host().get_attribute("data-mode") == "view",
                          "the viewer says view only", SLOW_WAIT)
            self.check("view only" in host().text.lower(), "the banner says view only")
            self.wait_for(lambda d: self.screen_matches(client), "the screen shows", SLOW_WAIT)
            canvas = self.driver.find_element(By.CSS_SELECTOR, ".viewer-host canvas")
            ActionChains(self.driver).move_to_element(canvas).click().send_keys("x").perform()
            self.check(client.next(lambda e: e.get("event") in ("pointer", "key"), timeout=2) is None,
                       "no input reaches the end user in view only")
            self.screenshot("35-session-view-only")

            # The end user grants control from its side: the banner follows, and input flows.
            client.process.stdin.write("control\n")
            client.process.stdin.flush()
            self.wait_for(lambda d: host().get_attribute("data-mode") == "control", "the viewer switches to control")
            ActionChains(self.driver).move_to_element(canvas).click().perform()
            self.check(client.next(lambda e: e.get("event") == "pointer" and e.get("buttons") == 1),
                       "after the grant a click reaches the end user")
            self.button("End session").click()
            self.check(client.wait_exit() == 0, "rs-client exits cleanly")
        finally:
            client.stop()


if __name__ == "__main__":
    runner = unittest.TextTestRunner(verbosity=2)
    suite = unittest.TestSuite([unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in (SupportSession, InvitationEmail)])
    result = runner.run(suite)
    print(f"{CHECKS['passed']} checks passed, {CHECKS['failed']} failed")
    sys.exit(0 if result.wasSuccessful() else 1)
