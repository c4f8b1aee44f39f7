"""Browser tests of the operator console (Sources/RemoteSupportBroker/Resources/console/).

Starts a real rs-broker on loopback with a fresh data folder, serving the console from the source
folder (--console-dir), and drives headless Chromium through Selenium: the forced password change, the
top bar's menu, the profile, agents and audit log, invitations (short link, landing page, e-mail
fallback), connection IDs, phone width, logging out. Screenshots of every page go to
Tests/Console/screenshots/.

    RS_BROKER_BIN=.build/debug/rs-broker python3 Tests/Console/test_console.py

Reuse: `BrokerProcess` runs a broker; `ConsoleTestCase` gives a test class its own broker and browser
(setUpClass) and the helpers `open_console`, `log_in`, `first_admin_ready` (logged in as the first
admin with the password changed), `screenshot` and `check` (a counted assertion). A viewer test is a new
ConsoleTestCase subclass (or method) using those.
"""

import base64
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import (NoAlertPresentException, NoSuchElementException,
                                        StaleElementReferenceException, TimeoutException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
CONSOLE_DIR = REPO / "Sources/RemoteSupportBroker/Resources/console"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
BROKER_BIN = Path(os.environ.get("RS_BROKER_BIN", REPO / ".build/debug/rs-broker"))
CHROMIUM = os.environ.get("RS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("RS_CHROMEDRIVER", "/usr/bin/chromedriver")

WAIT = 15             # seconds for a page or an API answer
SLOW_WAIT = 45        # seconds for a password hash in the debug build, or a broker's first start
MARKUP_NAME = "<img src=x onerror=alert(1)>"

CHECKS = {"passed": 0, "failed": 0}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BrokerProcess:
    """An rs-broker on loopback with its own data folder; `url` and the first admin's e-mail and password
    are read from what it prints on its first start."""

    def __init__(self, binary=BROKER_BIN, extra_arguments=()):
        self.binary = Path(binary)
        self.extra_arguments = list(extra_arguments)
        self.folder = Path(tempfile.mkdtemp(prefix="rs-console-test."))
        self.process = None
        self.url = None
        self.admin_email = None
        self.admin_password = None
        self.log_path = self.folder / "broker.err"

    def start(self, timeout=SLOW_WAIT):
        if not self.binary.exists():
            raise RuntimeError(f"no broker binary at {self.binary} (swift build --product rs-broker, or set RS_BROKER_BIN)")
        port = free_port()
        arguments = [str(self.binary), "--host", "127.0.0.1", "--port", str(port), "--protocol-port=-1",
                     "--data", str(self.folder / "data"), "--console-dir", str(CONSOLE_DIR), *self.extra_arguments]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=log,
                                            stdin=subprocess.DEVNULL, text=True, cwd=REPO)
        lines = queue.Queue()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()

        deadline = time.monotonic() + timeout
        expect_password = False
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    raise RuntimeError(f"rs-broker exited with {self.process.returncode}:\n{self.log_tail()}")
                continue
            if line is None:
                break
            found = re.search(r"console:\s+(\S+)", line)
            if found:
                self.url = found.group(1).rstrip("/").removesuffix("/console")
            found = re.search(r"log in as (\S+) with the one-time password", line)
            if found:
                self.admin_email = found.group(1)
                expect_password = True
                continue
            if expect_password and line.strip():
                self.admin_password = line.strip()
                return self
        self.stop()
        raise RuntimeError(f"rs-broker did not print its URL and first password within {timeout} s:\n{self.log_tail()}")

    def _read(self, lines):
        for line in self.process.stdout:
            lines.put(line)
        lines.put(None)

    def log_tail(self, count=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-count:])
        except OSError:
            return ""

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process and self.process.stdout:
            self.process.stdout.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def new_driver():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800",
                     "--disable-gpu", "--no-first-run", "--lang=en-GB"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(WAIT * 2)
    driver.set_script_timeout(WAIT)
    return driver


class ConsoleTestCase(unittest.TestCase):
    """A broker and a browser per test class, with helpers for the console."""

    broker = None
    driver = None
    admin_password = None  # the first admin's password after the forced change

    @classmethod
    def setUpClass(cls):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        cls.broker = BrokerProcess(extra_arguments=getattr(cls, "broker_arguments", ())).start()
        try:
            cls.driver = new_driver()
        except Exception:
            cls.broker.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        if cls.driver:
            cls.driver.quit()
        if cls.broker:
            cls.broker.stop()

    def tearDown(self):
        # Failures left by this test (a JavaScript error, a CSP violation) show up here.
        problems = self.browser_problems()
        self.check(not problems, "no JavaScript errors or CSP violations in the browser: " + "; ".join(problems))

    # -- Counted assertions and waits --

    def check(self, condition, message):
        if condition:
            CHECKS["passed"] += 1
            return
        CHECKS["failed"] += 1
        self.screenshot("failure-" + re.sub(r"[^a-z0-9]+", "-", self.id().split(".")[-1].lower()))
        self.fail(message)

    def wait_for(self, condition, message, timeout=WAIT):
        """Waits until `condition(driver)` is truthy and returns it; a counted check."""
        try:
            value = WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                  ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                                  ).until(lambda driver: condition(driver))
        except TimeoutException:
            value = None
        self.check(value, f"{message} (waited {timeout} s; at {self.driver.current_url})")
        return value

    def browser_problems(self):
        problems = []
        for entry in self.driver.get_log("browser"):
            text = entry.get("message", "")
            # Expected: answered errors the console handles (401 before login, 503 when there is no mail relay).
            if "Failed to load resource" in text:
                continue
            if entry.get("level") == "SEVERE" or "Content Security Policy" in text:
                problems.append(text)
        return problems

    # -- The console --

    def console_url(self, route=""):
        return f"{self.broker.url}/console/" + (f"#{route}" if route else "")

    def open_console(self, route="/home"):
        """Loads the console afresh at `route` (a new document, even when only the hash differs)."""
        url = self.console_url(route)
        if self.driver.current_url.split("#")[0] == url.split("#")[0]:
            self.driver.get("about:blank")
        self.driver.get(url)

    def go(self, route):
        """Changes the hash route in the loaded page (no reload)."""
        self.driver.execute_script("window.location.hash = arguments[0]", "#" + route)

    def hash(self):
        return self.driver.execute_script("return window.location.hash")

    def heading(self):
        headings = self.driver.find_elements(By.CSS_SELECTOR, "main h1")
        return headings[0].text if headings else ""

    def on_page(self, route, heading=None, timeout=WAIT):
        self.wait_for(lambda d: self.hash() == "#" + route and (heading is None or self.heading() == heading),
                      f"on {route}" + (f" with heading {heading!r}" if heading else ""), timeout)

    def field(self, label):
        """The input labelled `label` (exact label text)."""
        for element in self.driver.find_elements(By.CSS_SELECTOR, "main label"):
            if element.text.strip() == label:
                return self.driver.find_element(By.ID, element.get_attribute("for"))
        raise AssertionError(f"no field labelled {label!r}")

    def fill(self, label, text):
        element = self.field(label)
        # Select and delete like a person (clear() fires no input event), then type.
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.BACKSPACE)
        if text:
            element.send_keys(text)
        return element

    def button(self, text, within="main"):
        for element in self.driver.find_elements(By.CSS_SELECTOR, f"{within} button"):
            if element.text.strip() == text and element.is_displayed():
                return element
        raise AssertionError(f"no button {text!r}")

    def log_in(self, email, password):
        self.open_console("/login")
        self.on_page("/login")
        self.fill("E-mail", email)
        self.fill("Password", password)
        self.button("Log in").click()

    def first_admin_ready(self, new_password="console-test-password-1"):
        """Logs in as the first admin if needed, changing the one-time password the first time."""
        if "Hello," in self.topbar_text() and ConsoleTestCase.admin_password is not None:
            return
        if ConsoleTestCase.admin_password is None:
            if self.hash() != "#/settings/password":
                self.log_in(self.broker.admin_email, self.broker.admin_password)
            self.on_page("/settings/password", timeout=SLOW_WAIT)
            self.fill("One-time password", self.broker.admin_password)
            self.fill("New password", new_password)
            self.fill("New password again", new_password)
            self.button("Change password").click()
            self.on_page("/home", timeout=SLOW_WAIT)
            ConsoleTestCase.admin_password = new_password
        else:
            self.log_in(self.broker.admin_email, ConsoleTestCase.admin_password)
            self.on_page("/home", timeout=SLOW_WAIT)

    def topbar_text(self):
        bars = self.driver.find_elements(By.ID, "topbar")
        return bars[0].text if bars and bars[0].is_displayed() else ""

    def screenshot(self, name):
        """The whole page (beyond the window) as screenshots/<name>.png."""
        path = SCREENSHOTS / f"{name}.png"
        try:
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 5000), "scale": 1}
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot",
                                               {"format": "png", "captureBeyondViewport": True, "clip": clip})
            path.write_bytes(base64.b64decode(shot["data"]))
        except Exception as error:  # a screenshot must never hide the real failure
            print(f"  (screenshot {name} failed: {error})", file=sys.stderr)
        return path

    def no_alert(self):
        try:
            alert = self.driver.switch_to.alert
            text = alert.text
            alert.dismiss()
            return f"an alert was shown: {text!r}"
        except NoAlertPresentException:
            return None

    def settle(self):
        """Waits for the next two animation frames (after focus moves and renders)."""
        self.driver.execute_async_script(
            "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()))")


class ConsoleWalkthrough(ConsoleTestCase):
    """One agent's day, in order: each step starts where the previous one left the console."""

    def test_01_login_forces_the_password_change(self):
        self.driver.get(self.broker.url + "/")
        self.wait_for(lambda d: "/console/" in d.current_url and self.hash() == "#/login", "/ leads to the console's login page")
        self.wait_for(lambda d: self.heading() == "Log in to the console", "the login page shows")
        self.check(self.driver.switch_to.active_element.get_attribute("type") == "email", "the e-mail field has the focus")
        self.screenshot("01-login")

        self.fill("E-mail", self.broker.admin_email)
        self.fill("Password", "not-the-password")
        self.button("Log in").click()
        error = self.wait_for(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "main .message-error") if e.is_displayed()],
                              "a wrong password shows an error next to the form", SLOW_WAIT)
        self.check(error[0].get_attribute("role") == "alert", "the login error is announced (role=alert)")
        self.screenshot("02-login-error")

        self.fill("Password", self.broker.admin_password)
        self.button("Log in").click()
        self.on_page("/settings/password", "Choose your password", SLOW_WAIT)
        self.screenshot("03-password-forced")

        self.go("/home")
        time.sleep(0.3)
        self.on_page("/settings/password", "Choose your password")
        self.open_console("/invite")
        self.on_page("/settings/password", "Choose your password")
        links = [a.text for a in self.driver.find_elements(By.CSS_SELECTOR, "#sidenav a")]
        self.check(links == ["Password"], f"only the password page is offered while it must change: {links}")

        self.fill("One-time password", self.broker.admin_password)
        self.fill("New password", "short")
        self.fill("New password again", "short")
        self.button("Change password").click()
        self.wait_for(lambda d: "at least 10 characters" in d.find_element(By.CSS_SELECTOR, "main .message").text,
                      "a too short password is refused next to the form")

        ConsoleTestCase.admin_password = None
        self.first_admin_ready()
        self.wait_for(lambda d: "Hello, " in self.topbar_text(), "the top bar greets the agent")
        self.screenshot("04-home-empty")

    def test_02_topbar_menu_by_keyboard(self):
        self.first_admin_ready()
        button = self.driver.find_element(By.CSS_SELECTOR, ".account-button")
        greeting = button.find_element(By.CSS_SELECTOR, ".account-greeting").text
        self.check(greeting.startswith("Hello, "), f"the menu button reads Hello, <name>: {greeting!r}")
        self.check(button.get_attribute("aria-expanded") == "false", "the menu starts closed (aria-expanded=false)")
        menu = self.driver.find_element(By.ID, button.get_attribute("aria-controls"))
        self.check(not menu.is_displayed(), "the menu is hidden while closed")

        self.driver.execute_script("arguments[0].focus()", button)
        button.send_keys(Keys.ENTER)
        self.wait_for(lambda d: button.get_attribute("aria-expanded") == "true" and menu.is_displayed(), "Enter opens the menu")
        entries = [e.text for e in menu.find_elements(By.CSS_SELECTOR, ".menu-item")]
        self.check(entries == ["Settings", "Log out"], f"the menu holds Settings and Log out: {entries}")
        self.screenshot("05-account-menu")

        ActionTab(self.driver).tab()
        self.check(self.driver.switch_to.active_element.text == "Settings", "Tab moves into the menu")
        ActionTab(self.driver).key(Keys.ESCAPE)
        self.wait_for(lambda d: button.get_attribute("aria-expanded") == "false" and not menu.is_displayed(), "Escape closes the menu")
        self.check(self.driver.switch_to.active_element == button, "Escape returns the focus to the menu button")
        outline = self.driver.execute_script("return getComputedStyle(arguments[0]).outlineStyle", button)
        self.check(outline != "none", f"the focused menu button shows a focus ring (outline {outline})")

        button.send_keys(Keys.ENTER)
        self.wait_for(lambda d: menu.is_displayed(), "the menu opens again")
        menu.find_element(By.LINK_TEXT, "Settings").click()
        self.on_page("/settings/profile", "Profile")
        self.check(not menu.is_displayed() or not self.driver.find_elements(By.CSS_SELECTOR, ".account-menu:not([hidden])"),
                   "choosing an entry closes the menu")

    def test_03_profile_edit_updates_the_topbar(self):
        self.first_admin_ready()
        self.go("/settings/profile")
        self.on_page("/settings/profile", "Profile")
        settings_links = [a.text for a in self.driver.find_elements(By.CSS_SELECTOR, "#sidenav .sidenav-list a")]
        self.check(settings_links == ["Profile", "Password", "Agents", "Audit log"], f"an admin's settings menu: {settings_links}")
        self.fill("Name", "Ada Lovelace")
        self.fill("E-mail", "ada@example.com")
        self.fill("Job title", "Support engineer")
        self.button("Save profile").click()
        self.wait_for(lambda d: "Profile saved" in d.find_element(By.CSS_SELECTOR, "main .message").text, "the profile is saved")
        self.wait_for(lambda d: "Hello, Ada Lovelace" in self.topbar_text(), "the top bar shows the new name")
        self.broker.admin_email = "ada@example.com"
        self.screenshot("06-settings-profile")

        self.go("/settings/password")
        self.on_page("/settings/password", "Password")
        self.check(self.field("Current password").is_displayed(), "the password page asks for the current password")
        self.screenshot("07-settings-password")

    def test_04_admin_adds_and_disables_an_agent(self):
        self.first_admin_ready()
        self.go("/settings/agents")
        self.on_page("/settings/agents", "Agents")
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "main table tbody tr"), "the agents are listed")
        self.fill("Name", "Grace Hopper")
        self.fill("E-mail", "grace@example.com")
        self.fill("Job title", "Second line")
        self.button("Add agent").click()
        secret = self.wait_for(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, ".secret-value") if e.is_displayed()],
                               "the new agent's one-time password is shown", SLOW_WAIT)
        self.check(len(secret[0].text.strip()) >= 10, f"the one-time password is there: {secret[0].text!r}")
        self.wait_for(lambda d: "Enabled" in self.agent_row("grace@example.com").text, "the new agent is listed, enabled")
        self.screenshot("08-agents-added")

        self.button("Done, hide it").click()
        self.agent_row("grace@example.com").find_element(By.XPATH, ".//button[normalize-space()='Disable']").click()
        self.wait_for(lambda d: (r := self.agent_row("grace@example.com")) and "Disabled" in r.text, "the agent is disabled")
        self.check(self.agent_row("grace@example.com").find_elements(By.XPATH, ".//button[normalize-space()='Enable']"),
                   "a disabled agent can be enabled again")
        self.screenshot("09-agents-disabled")

        self.go("/settings/audit")
        self.on_page("/settings/audit", "Audit log")
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "main table tbody tr"), "the audit log lists events")
        actions = {e.text for e in self.driver.find_elements(By.CSS_SELECTOR, "main table code.action")}
        for action in ("agent.created", "agent.disabled", "password.changed", "profile.updated", "login.succeeded", "login.failed"):
            self.check(action in actions, f"the audit log shows {action}: {sorted(actions)}")
        self.screenshot("10-audit-log")

        self.fill("Action", "agent.disabled")
        self.button("Apply filters").click()
        self.wait_for(lambda d: {e.text for e in d.find_elements(By.CSS_SELECTOR, "main table code.action")} == {"agent.disabled"},
                      "the action filter keeps only agent.disabled")
        self.screenshot("11-audit-filtered")

    def agent_row(self, email):
        for row in self.driver.find_elements(By.CSS_SELECTOR, "main table tbody tr"):
            if email in row.text:
                return row
        return None

    def test_05_invite_links(self):
        self.first_admin_ready()
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {
            "origin": self.broker.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
        self.go("/invite")
        self.on_page("/invite", "Invite")
        link = self.driver.find_element(By.ID, "invite-link")
        personal = self.wait_for(lambda d: link.get_attribute("value"), "the personal link is shown")
        self.check(re.search(r"/join/[^?]+$", personal), f"an empty form shows the personal link: {personal}")

        self.button("Copy").click()
        confirmation = self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, ".link-box .copy-confirmation").text,
                                     "Copy shows a confirmation")
        self.check(confirmation == "Copied" or confirmation.startswith("Selected"), f"the copy confirmation: {confirmation!r}")
        if confirmation == "Copied":
            copied = self.driver.execute_async_script(
                "navigator.clipboard.readText().then(arguments[0], () => arguments[0](null))")
            self.check(copied in (None, personal), f"the clipboard holds the link: {copied!r}")

        self.fill("Ticket number", "T-1234")
        self.fill("End user's name", MARKUP_NAME)
        invitation = self.wait_for(lambda d: (v := link.get_attribute("value")) != personal and "ticket=" in v and v,
                                   "typing a ticket and a name makes an invitation link")
        self.check("Invitation link" in self.driver.find_element(By.ID, "invite-link-about").text, "the link is described as an invitation")

        self.button("Shorten").click()
        short = self.wait_for(lambda d: d.find_element(By.ID, "short-link").get_attribute("value"), "Shorten shows the short link")
        self.check(re.search(r"/s/[0-9A-Za-z]{16}$", short), f"a short link: {short}")
        self.screenshot("12-invite")

        self.fill("End user's e-mail", "end.user@example.com")
        self.button("Send by e-mail").click()
        mailto = self.wait_for(lambda d: [a for a in d.find_elements(By.CSS_SELECTOR, ".mail-fallback a") if a.is_displayed()],
                               "without a mail relay the console offers a mailto: link")
        href = mailto[0].get_attribute("href")
        self.check(href.startswith("mailto:end.user%40example.com?subject=") and "&body=" in href, f"the mailto link: {href[:80]}")
        self.check("Remote%20support%20from%20Ada%20Lovelace" in href, "the mailto subject names the agent")
        self.screenshot("13-invite-mail-fallback")

        self.fill("Ticket number", "")
        self.fill("End user's name", "")
        self.wait_for(lambda d: link.get_attribute("value") == personal, "emptying both fields brings the personal link back")

        # The short link leads to the landing page with the agent's and the end user's names as text.
        self.driver.get(short)
        self.wait_for(lambda d: "/join/" in d.current_url, "the short link redirects to the landing page")
        body = self.driver.find_element(By.TAG_NAME, "body").text
        self.check("Ada Lovelace" in body, "the landing page names the agent")
        self.check(MARKUP_NAME in body, "the landing page shows the end user's name as text")
        self.check(not self.driver.find_elements(By.CSS_SELECTOR, "img[src='x']"), "the landing page has no injected img")
        self.check(self.no_alert() is None, "no script ran from the end user's name")
        self.screenshot("14-landing-page")
        self.open_console("/home")
        self.on_page("/home", "Waiting sessions")

    def test_06_connection_id(self):
        self.first_admin_ready()
        self.go("/connection-id")
        self.on_page("/connection-id", "Share a connection ID")
        self.fill("End user's name", MARKUP_NAME)
        self.fill("Ticket number", "T-77")
        self.button("Issue a connection ID").click()
        code = self.wait_for(lambda d: [e for e in d.find_elements(By.ID, "issued-code") if e.is_displayed()],
                             "a connection ID is issued")[0]
        self.check(re.fullmatch(r"\d{3} \d{3}", code.text), f"shown as 123 456: {code.text!r}")
        size = float(self.driver.execute_script("return parseFloat(getComputedStyle(arguments[0]).fontSize)", code))
        self.check(size >= 40, f"the code is shown large ({size}px)")
        validity = self.driver.find_element(By.CSS_SELECTOR, ".code-validity")
        first = validity.text
        self.check(re.fullmatch(r"Valid for \d+:\d\d", first), f"its validity is shown: {first!r}")
        self.wait_for(lambda d: validity.text != first and re.fullmatch(r"Valid for \d+:\d\d", validity.text),
                      "the validity counts down", 4)
        self.check(seconds(validity.text) < seconds(first), f"it counts down: {first!r} then {validity.text!r}")

        listed = self.wait_for(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, ".live-codes tbody tr") if code.text in r.text],
                               "the code is among the live codes")
        self.check(MARKUP_NAME in listed[0].text, "the end user's name with markup shows as text")
        self.check(not self.driver.find_elements(By.CSS_SELECTOR, "main img"), "no img element came from the name")
        self.check(self.no_alert() is None, "no script ran from the name")
        self.screenshot("15-connection-id")

        issued = code.text
        self.open_console("/connection-id")
        self.wait_for(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, ".live-codes tbody tr") if issued in r.text],
                      "after a reload the code is listed from GET /connection-ids")

    def test_07_sessions_and_home(self):
        self.first_admin_ready()
        self.go("/home")
        self.on_page("/home", "Waiting sessions")
        self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, ".live-status").text == "Live", "the lobby stream is live")
        self.check(self.driver.find_elements(By.CSS_SELECTOR, ".lobby .empty"), "an empty lobby says so")
        self.screenshot("16-home")

        self.go("/sessions")
        self.on_page("/sessions", "All sessions")
        self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, ".result-summary").text == "No sessions match.",
                      "the session list answers (none yet)")
        self.fill("Search", "nobody")
        self.button("Apply filters").click()
        self.wait_for(lambda d: d.find_element(By.CSS_SELECTOR, ".result-summary").text == "No sessions match.", "filters apply")
        self.screenshot("17-sessions")

        self.go("/view/00000000-0000-4000-8000-000000000000")
        self.wait_for(lambda d: "no longer waiting" in d.find_element(By.CSS_SELECTOR, "main").text,
                      "connecting to an unknown session says it is not waiting")
        self.screenshot("18-view-unknown-session")

    def test_08_lobby_sessions_and_connect_with_data(self):
        """The lobby, the session list and Connect with made-up data: the page's EventSource and fetch of
        those routes are replaced in the browser (no end user joins; a live test with rs-client can do that)."""
        self.first_admin_ready()
        script = self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": STUB_SCRIPT})["identifier"]
        try:
            self.open_console("/home")
            self.on_page("/home", "Waiting sessions")
            now = time.time()
            first = made_up_session("11111111-1111-4111-8111-111111111111", MARKUP_NAME, "<b>T-9</b>", now - 75)
            second = made_up_session("22222222-2222-4222-8222-222222222222", "Zoë Fernández", "", now - 5, method="connection-id")
            self.driver.execute_script("window.__stub.waiting(arguments[0])", first)
            row = self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".lobby tbody tr"), "a waiting session appears without reload")
            self.check(MARKUP_NAME in row[0].text and "<b>T-9</b>" in row[0].text, "the end user's name and ticket show as text")
            self.check(not self.driver.find_elements(By.CSS_SELECTOR, "main img, main b"), "no element came from the end user's text")
            self.check("PC-42" in row[0].text and "Invitation" in row[0].text, "machine and how they joined are shown")
            waited = row[0].find_element(By.CSS_SELECTOR, "td.numeric")
            self.check(re.fullmatch(r"1:1\d", waited.text), f"the waiting time is shown: {waited.text!r}")
            before = waited.text
            self.wait_for(lambda d: waited.text != before, "the waiting time ticks", 3)

            self.driver.execute_script("window.__stub.waiting(arguments[0])", second)
            self.wait_for(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".lobby tbody tr")) == 2, "a second end user joins the list")
            names = [r.find_element(By.CSS_SELECTOR, "th").text for r in self.driver.find_elements(By.CSS_SELECTOR, ".lobby tbody tr")]
            self.check(names == [MARKUP_NAME, "Zoë Fernández"], f"longest waiting first: {names}")
            self.check(self.driver.find_element(By.CSS_SELECTOR, "#sidenav .badge").text == "2", "the menu counts the waiting sessions")
            self.screenshot("19-home-waiting")

            self.driver.execute_script("window.__stub.gone(arguments[0])", second["id"])
            self.wait_for(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".lobby tbody tr")) == 1, "a session that leaves disappears")

            # All sessions: a page with a next page.
            self.driver.execute_script("window.__stub.sessionPages = arguments[0]", [
                {"sessions": [made_up_session("33333333-3333-4333-8333-33333333333" + str(i), f"End user {i}", f"T-{i}",
                                              now - 3600 * i, status) for i, status in enumerate(("ended", "connected", "cancelled"))],
                 "total": 4, "next": "1700000000000.33333333-3333-4333-8333-333333333333"},
                {"sessions": [made_up_session("44444444-4444-4444-8444-444444444444", "Last one", "", now - 90000, "expired")], "total": 4},
            ])
            self.go("/sessions")
            self.on_page("/sessions", "All sessions")
            self.wait_for(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".results tbody tr")) == 3, "the first page of sessions is listed")
            self.check("Sessions 1–3 of 4" in self.driver.find_element(By.CSS_SELECTOR, ".result-summary").text, "the count is shown")
            self.screenshot("20-sessions-list")
            self.button("Next page →").click()
            self.wait_for(lambda d: [r for r in d.find_elements(By.CSS_SELECTOR, ".results tbody tr") if "Last one" in r.text],
                          "Next page shows the next page")
            asked = self.driver.execute_script("return window.__stub.sessionQueries")
            self.check("after=1700000000000.33333333" in asked[-1], f"the next page is asked with the cursor: {asked[-1]}")
            self.check(self.button("← Previous page").is_enabled(), "the previous page is reachable")

            # Connect: checked by the API (made up here), then the viewer in the page.
            self.go("/home")
            self.on_page("/home", "Waiting sessions")
            connect = self.wait_for(lambda d: [b for b in d.find_elements(By.CSS_SELECTOR, ".lobby button") if b.text == "Connect"],
                                    "the session has a Connect button")
            self.check(MARKUP_NAME in connect[0].get_attribute("aria-label"), "Connect is labelled with the end user's name")
            connect[0].click()
            self.on_page("/view/" + first["id"])
            viewer_present = (CONSOLE_DIR / "js/viewer/viewer.js").exists()
            if viewer_present:
                self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, ".viewer-host.rs-viewer") or self.hash() == "#/home",
                              "the viewer is mounted in the page (or has exited to the waiting list)")
            else:
                self.wait_for(lambda d: "viewer is not available" in d.find_element(By.CSS_SELECTOR, "main").text,
                              "without the viewer the page says so")
            self.check(self.driver.execute_script("return window.__stub.connected") == first["id"],
                       "Connect asked the API for that session")
            self.screenshot("21-view")
        finally:
            self.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": script})
            self.open_console("/home")

    def test_09_phone_width(self):
        self.first_admin_ready()
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
        try:
            self.wait_for(lambda d: d.execute_script("return window.innerWidth") == 390, "the window is phone-wide")
            for route, heading, name in (("/home", "Waiting sessions", "23-phone-home"),
                                         ("/invite", "Invite", "24-phone-invite"),
                                         ("/connection-id", "Share a connection ID", "25-phone-connection-id"),
                                         ("/settings/agents", "Agents", "26-phone-agents")):
                self.go(route)
                self.on_page(route, heading)
                time.sleep(0.4)
                width = self.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
                self.check(width[0] <= width[1], f"{route}: nothing wider than the phone's screen {width}")
                nav = self.driver.find_element(By.ID, "sidenav").rect
                main = self.driver.find_element(By.ID, "main").rect
                self.check(nav["y"] + nav["height"] <= main["y"] + 1, f"{route}: the left menu sits above the content")
                self.screenshot(name)
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def test_10_log_out(self):
        self.first_admin_ready()
        button = self.driver.find_element(By.CSS_SELECTOR, ".account-button")
        button.click()
        self.button("Log out", within="#topbar").click()
        self.on_page("/login", "Log in to the console")
        self.check(not self.driver.find_element(By.ID, "topbar").is_displayed(), "the top bar is gone after logging out")
        self.open_console("/home")
        self.on_page("/login", "Log in to the console")
        self.screenshot("27-logged-out")


def made_up_session(session_id, name, ticket, created, status="waiting", method="invitation"):
    """A Session as the API describes it (openapi.yaml), with `created` in Unix seconds."""
    def rfc3339(seconds):
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".000Z"
    session = {"id": session_id, "agentID": "00000000-0000-4000-8000-000000000001", "status": status,
               "joinMethod": method, "displayName": name,
               "endUser": {"name": name, "machineName": "PC-42", "operatingSystem": "Windows 11", "address": "192.0.2.7"},
               "created": rfc3339(created)}
    if ticket:
        session["ticket"] = ticket
    if status in ("connected", "ended"):
        session["connectedAt"] = rfc3339(created + 30)
    if status in ("ended", "cancelled", "expired"):
        session["finishedAt"] = rfc3339(created + 600)
        session["endReason"] = {"ended": "agent-ended", "cancelled": "end-user-left", "expired": "expired"}[status]
    return session


# Installed before the console's own scripts (CDP, so the page's CSP does not apply): the lobby's
# EventSource and the session routes answered from window.__stub, driven by the test.
STUB_SCRIPT = """
(() => {
  const stub = window.__stub = { sources: [], sessionPages: [], sessionQueries: [], connected: null };
  const RealEventSource = window.EventSource;
  class StubEventSource extends EventTarget {
    constructor(url, options) {
      if (!String(url).includes("/api/v1/lobby/events")) return new RealEventSource(url, options);
      super();
      this.url = url;
      this.readyState = 0;
      stub.sources.push(this);
      setTimeout(() => { this.readyState = 1; this.dispatchEvent(new Event("open")); }, 10);
    }
    close() { this.readyState = 2; }
  }
  StubEventSource.CONNECTING = 0; StubEventSource.OPEN = 1; StubEventSource.CLOSED = 2;
  window.EventSource = StubEventSource;
  const send = (type, data) => {
    for (const source of stub.sources) if (source.readyState === 1) source.dispatchEvent(new MessageEvent(type, { data: JSON.stringify(data) }));
  };
  stub.waiting = (session) => { stub.sessions = { ...(stub.sessions || {}), [session.id]: session }; send("session.waiting", session); };
  stub.gone = (id) => send("session.gone", { id, reason: "end-user-left" });

  const realFetch = window.fetch.bind(window);
  const json = (body) => new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  window.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (url.pathname === "/api/v1/sessions" && stub.sessionPages.length) {
      stub.sessionQueries.push(url.search);
      return Promise.resolve(json(url.searchParams.get("after") ? stub.sessionPages[1] : stub.sessionPages[0]));
    }
    const connect = /^\/api\/v1\/sessions\/([^/]+)\/connect$/.exec(url.pathname);
    if (connect && stub.sessions && stub.sessions[connect[1]]) {
      stub.connected = connect[1];
      return Promise.resolve(json({ session: stub.sessions[connect[1]], webSocketURL: `ws://${location.host}/ws` }));
    }
    return realFetch(input, init);
  };
})();
"""


class ActionTab:
    """Keys sent to whatever has the focus."""

    def __init__(self, driver):
        self.driver = driver

    def key(self, key):
        webdriver.ActionChains(self.driver).send_keys(key).perform()

    def tab(self):
        self.key(Keys.TAB)


def seconds(validity):
    minutes, secs = re.search(r"(\d+):(\d\d)", validity).groups()
    return int(minutes) * 60 + int(secs)


if __name__ == "__main__":
    started = time.monotonic()
    result = unittest.main(exit=False, verbosity=2).result
    print(f"\nScreenshots: {SCREENSHOTS}")
    print(f"Took {time.monotonic() - started:.0f} s")
    # The checks (counted assertions and waits); a test that errored outside a check counts as one failure.
    failed = CHECKS["failed"] + len(result.errors)
    print(f"console: {CHECKS['passed']} passed, {failed} failed")
    sys.exit(0 if result.wasSuccessful() else 1)
