"""support-console in a real headless Chromium, through the local loop.

Started by `infra/local-loop.sh --browser` (and so by tests/run.sh) with the console's URL in
ANSHIN_CONSOLE_URL, once the queue holds the demo submissions. It drives Debian's chromium
through chromedriver with Selenium:

1. member A signs in, works a case from the queue to a strike, and sees the strike on the
   author's account page;
2. a posting whose body holds <script> and <img onerror=…> shows as text and runs nothing;
3. A confirms crime recruitment on it (a forced withdrawal, pending a second member), A
   may not confirm it, and lead B does;
and saves screenshots of the queue, a case and the trends page into ANSHIN_SCREENSHOT_DIR.
Ends with `browser: N passed, N failed`.
"""

import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["ANSHIN_CONSOLE_URL"].rstrip("/")
SHOTS = os.environ.get("ANSHIN_SCREENSHOT_DIR", "target/screenshots")
CONTACT = "proposal-20261127-0042"
CONTACT_AUTHOR = "worker-5120"
MARKUP = "job-20261203-0666"
MARKUP_AUTHOR = "client-7781"
WAIT_S = 60


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}\n     {str(detail)[:800]}", flush=True)
        return condition


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    # This machine's network is closed: Chromium's background connections must stay off.
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", f"--user-data-dir={tempfile.mkdtemp(prefix='anshin-chromium-')}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def text(driver, css):
    try:
        return driver.find_element(By.CSS_SELECTOR, css).text
    except NoSuchElementException:
        return None


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    # The whole page, not just the window.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, max(1000, min(height + 40, 4000)))
    driver.save_screenshot(os.path.join(SHOTS, name))
    driver.set_window_size(1400, 1000)


def submit(driver, button):
    """Clicks a button that posts a form and waits for the page the post leads to: a click
    returns before the browser has replaced the page, and reading the old one then finds
    stale elements (or none)."""
    # The old page is marked; a new document has a fresh window without the mark. Asking
    # while the browser navigates may fail in several ways (a stale element was reported
    # by chromedriver as "Node with given id does not belong to the document", a script
    # as a destroyed context): each means "not yet", so the wait ignores them and asks again.
    driver.execute_script("window.anshinOldPage = true")
    button.click()
    WebDriverWait(driver, WAIT_S, ignored_exceptions=(WebDriverException,)).until(
        lambda d: d.execute_script(
            "return window.anshinOldPage === undefined && document.readyState === 'complete'"))


def sign_in(driver, member):
    driver.get(f"{URL}/sign-in")
    submit(driver, driver.find_element(By.ID, f"sign-in-{member}"))


def wait_for(driver, url, css, expected):
    """Reloads `url` until `css` holds `expected` (the command is delivered asynchronously)."""
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        driver.get(url)
        if text(driver, css) == expected:
            return True
        time.sleep(1)
    return False


def case_link(driver, submission_id):
    driver.get(f"{URL}/queue")
    for link in driver.find_elements(By.CSS_SELECTOR, "#queue a"):
        if link.text == submission_id:
            return link.get_attribute("href")
    return None


def main():
    c = Checks()
    driver = browser()
    try:
        driver.get(f"{URL}/queue")
        c.check("Sign" in driver.page_source or "サインイン" in driver.page_source,
                "without signing in, the queue asks for a sign-in", driver.page_source[:300])

        # 1. Member A: queue → case → strike → account page.
        sign_in(driver, "member-a")
        c.check(driver.current_url.endswith("/queue") and text(driver, "#member") is not None,
                "member A signs in and lands on the queue", driver.current_url)
        rows = driver.find_elements(By.CSS_SELECTOR, "#queue tr.case-row")
        c.check(len(rows) >= 3, "the queue holds the demo submissions' cases", len(rows))
        shot(driver, "queue-ja.png")
        driver.get(f"{URL}/lang/en")
        shot(driver, "queue.png")
        link = case_link(driver, CONTACT)
        c.check(link is not None, "the off-platform-contact proposal is in the queue")
        driver.get(link)
        c.check(len(driver.find_elements(By.CSS_SELECTOR, "#posting-body mark")) > 0,
                "the case page highlights the evidence in the text")
        submit(driver, driver.find_element(By.ID, "claim"))
        c.check("claimed" in (text(driver, "#status") or ""), "member A claims the case", text(driver, "#status"))
        shot(driver, "case.png")
        checked = [b.get_attribute("value") for b in driver.find_elements(By.CSS_SELECTOR, "input[name=category]")
                   if b.is_selected()]
        c.check("off_platform_contact" in checked, "the verdict's categories are preselected", checked)
        # A confirms only what the text shows: off-platform contact.
        for box in driver.find_elements(By.CSS_SELECTOR, "input[name=category]"):
            if box.is_selected() != (box.get_attribute("value") == "off_platform_contact"):
                box.click()
        submit(driver, driver.find_element(By.ID, "confirm"))
        c.check((text(driver, "#resolution") or "").startswith("removed"),
                "confirming closes the case as removed", text(driver, "#resolution"))
        c.check(wait_for(driver, f"{URL}/accounts/{CONTACT_AUTHOR}", "#strike-count", "1"),
                "the strike shows on the author's account page", driver.page_source[:500])
        c.check("member-a" in (text(driver, "#audit") or ""), "the audit trail names member A",
                text(driver, "#audit"))

        # 2. Markup in a posting is text.
        link = case_link(driver, MARKUP)
        c.check(link is not None, "the posting with markup is in the queue")
        driver.get(link)
        body = text(driver, "#posting-body") or ""
        c.check("<script>" in body and "onerror=" in body, "the markup shows as text", body[:300])
        c.check(driver.execute_script("return document.body.getAttribute('data-pwned')") is None
                and driver.title != "pwned"
                and not driver.find_elements(By.CSS_SELECTOR, "main script, main img"),
                "no script ran and no element was made from the posting",
                driver.execute_script("return document.body.getAttribute('data-pwned')"))

        # 3. A forced withdrawal requested by A, confirmed by lead B.
        for box in driver.find_elements(By.CSS_SELECTOR, "input[name=category]"):
            if box.get_attribute("value") == "illegal_work" and not box.is_selected():
                box.click()
        submit(driver, driver.find_element(By.ID, "confirm"))
        account = f"{URL}/accounts/{MARKUP_AUTHOR}"
        c.check(wait_for(driver, account, "#level", "withdrawal_pending"),
                "crime recruitment confirmed by A puts the account's withdrawal pending", text(driver, "#level"))
        submit(driver, driver.find_element(By.ID, "confirm-withdrawal"))
        c.check("lead" in driver.page_source and text(driver, "#level") is None,
                "A, not a lead, may not confirm it (403)", driver.page_source[:300])
        submit(driver, driver.find_element(By.CSS_SELECTOR, "header form button"))
        sign_in(driver, "lead-b")
        driver.get(account)
        submit(driver, driver.find_element(By.ID, "confirm-withdrawal"))
        c.check(wait_for(driver, account, "#level", "withdrawn"),
                "lead B confirms the withdrawal A requested", text(driver, "#level"))
        c.check("lead-b" in (text(driver, "#audit") or ""), "the audit trail names lead B",
                text(driver, "#audit"))

        driver.get(f"{URL}/trends")
        c.check(len(driver.find_elements(By.CSS_SELECTOR, "#trend-chart rect")) > 0,
                "the trends page draws today's decisions")
        shot(driver, "trends.png")
        driver.get(f"{URL}/guidelines")
        c.check("依頼ガイドライン" in driver.page_source and "提案ガイドライン" in driver.page_source,
                "the public guidelines render from the policy")
    finally:
        driver.quit()
    print(f"browser: {c.passed} passed, {c.failed} failed", flush=True)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
