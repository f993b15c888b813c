"""Browser test of the foundation, in headless Debian Chromium driven by Playwright.

- An entity security officer signs in, sees only its own entity's users and tokens, creates a token
  (shown once), switches the interface to English and back.
- A CSIRT analyst is made to enrol a TOTP second factor with the QR page's key, then signs in with it.

Runs against a real `baluarte demo` server on a loopback port (started here). Set SCREENSHOT_DIR to
keep screenshots (the README's dashboard picture comes from here).
"""

import os
import re
import shutil
import sys
import urllib.request

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from demo_server import BINARY, PASSWORD, start_server, totp, totp_step  # noqa: E402,F401

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def login(page, base, email):
    page.goto(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")


def shot(page, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, name), full_page=True)


def officer_sees_only_own_entity(browser, base):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, base, "seguridad@sat.example")
    expect(page.locator("h1")).to_be_visible()
    assert page.url.rstrip("/") == base, page.url

    # Users: only the SAT's people.
    page.goto(base + "/users")
    emails = page.locator("table tbody tr").all_inner_texts()
    assert emails, "the officer sees its entity's users"
    found = re.findall(r"[\w.+-]+@([\w.-]+)", " ".join(emails))
    assert found and set(found) == {"sat.example"}, f"only SAT users, got {set(found)}"

    # Tokens: create one; its secret is shown once; the list has only SAT tokens.
    page.goto(base + "/tokens")
    page.click("a[href='/tokens/new']")
    page.fill("#name", "Sensor del SOC institucional")
    page.check("input[name=purposes][value='events:write']")
    page.click("form[action='/tokens'] button[type=submit]")
    secret = page.locator("#token-secret").inner_text().strip()
    assert secret.startswith("blt_") and len(secret) > 40, secret
    page.goto(base + "/tokens")
    body = page.locator("main").inner_text()
    assert "Sensor del SOC institucional" in body
    assert secret not in page.content(), "the secret is never shown again"

    # API: the new token works, and sees no foreign entity.
    req = urllib.request.Request(base + "/api/v1/entities", headers={"Authorization": "Bearer " + secret})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("an events:write token must not read the registry")
    except urllib.error.HTTPError as e:
        assert e.code == 403, e.code

    # Language: Spanish by default, English on request, and back.
    page.goto(base + "/users")
    expect(page.locator("html")).to_have_attribute("lang", "es-MX")
    expect(page.locator("header.top nav")).to_contain_text("Usuarios")
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header.top nav")).to_contain_text("Users")
    assert page.url.endswith("/users"), page.url
    page.click("#lang-switch")
    expect(page.locator("html")).to_have_attribute("lang", "es-MX")
    expect(page.locator("header.top nav")).to_contain_text("Usuarios")
    page.close()


def analyst_enrols_totp_and_signs_in_with_it(browser, base):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    login(page, base, "csirt@atdt.example")
    # National roles must enrol a second factor before anything else.
    page.wait_for_url(re.compile(r".*/account/totp$"))
    expect(page.locator(".qr svg")).to_be_visible()
    page.goto(base + "/entities")
    page.wait_for_url(re.compile(r".*/account/totp$"))
    secret = page.locator("#totp-secret").inner_text().strip()
    # The server accepts the codes of the step before and after its own, and each step once.
    enrolled_step = totp_step()
    page.fill("#code", totp(secret, enrolled_step))
    page.click("form[action='/account/totp'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/account$"))
    expect(page.locator("#totp-status")).to_contain_text("Activado")

    # Sign out, then in again: the code is now asked for.
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r".*/login$"))
    login(page, base, "csirt@atdt.example")
    page.wait_for_url(re.compile(r".*/login/totp$"))
    page.fill("#code", "000000" if totp(secret) != "000000" else "111111")
    page.click("button[type=submit].primary")
    expect(page.locator(".error-summary")).to_be_visible()
    # A code is accepted once (RFC 6238 §5.2): the enrolment's code is refused (used, or by now out of
    # the window: refused either way); a later step's works at once — the next one while the clock is
    # still in the enrolment's step, the current one after.
    page.fill("#code", totp(secret, enrolled_step))
    page.click("button[type=submit].primary")
    expect(page.locator(".error-summary")).to_be_visible()
    page.fill("#code", totp(secret, max(enrolled_step + 1, totp_step())))
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/$"))
    expect(page.locator("h1")).to_contain_text("Tablero")
    # The national view: all entities, with charts.
    expect(page.locator("svg.chart").first).to_be_visible()
    shot(page, "dashboard.png")
    page.goto(base + "/entities")
    shot(page, "entities.png")
    page.close()


def main() -> int:
    if not os.path.exists(CHROMIUM):
        print(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium", file=sys.stderr)
        return 1
    proc, base, data = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"],
            )
            checks = [officer_sees_only_own_entity, analyst_enrols_totp_and_signs_in_with_it]
            passed = 0
            for check in checks:
                check(browser, base)
                print(f"ok - {check.__name__}")
                passed += 1
            browser.close()
        print(f"browser: {passed} passed, 0 failed")
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
