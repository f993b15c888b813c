"""Browser test of incident reporting and handling, in headless Debian Chromium driven by Playwright.

A reporter of the SAT files a report with an attachment through the guided form and downloads the signed
receipt, which `baluarte receipt verify` accepts with the server's public key. The national coordinator
(enrolling TOTP first) triages it, adds a task, asks for information and requests the final report; the
reporter answers and sends the final report; the coordinator closes the incident. Both sides see the
deadline state change on the way.

Runs against a real `baluarte demo` server on a loopback port (started here).
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zoneinfo

from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_foundation import BINARY, CHROMIUM, login, shot, start_server, totp  # noqa: E402

TITLE = "Intrusión en el portal de declaraciones (prueba de navegador)"


def deadline_states(page):
    """The state badges of the deadline panel, as shown."""
    return [t.strip() for t in page.locator("#deadlines li .badge").all_inner_texts()]


def enrol_totp(page, base, email):
    login(page, base, email)
    page.wait_for_url(re.compile(r".*/account/totp$"))
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#code", totp(secret))
    page.click("form[action='/account/totp'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/account$"))


def submit(page, action):
    page.locator(f"form[action$='{action}'] button[type=submit]").first.click()
    page.wait_for_load_state()


def reporter_files_a_report(browser, base, work):
    page = browser.new_page(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    login(page, base, "reportes@sat.example")
    page.goto(base + "/incidents/new")
    local = datetime.datetime.now(zoneinfo.ZoneInfo("America/Mexico_City")) - datetime.timedelta(hours=2)
    page.fill("#title", TITLE)
    page.fill("#description", "Se detectaron accesos con credenciales robadas al portal y una cuenta nueva de administración.")
    page.fill("#detected_at", local.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#rsit", "intrusions/system-compromise")
    page.select_option("#severity", "high")
    page.check("input[name=tlp][value=AMBER]")
    page.fill("#observables", "198.51.100.77\nportal-falso[.]example\nhxxps://portal-falso.example/login")
    evidence = os.path.join(work, "bitacora.log")
    with open(evidence, "w", encoding="utf-8") as f:
        f.write("2026-11-21 07:12 inicio de sesión admin desde 198.51.100.77\n")
    page.set_input_files("#attachment", evidence)
    page.click("form[action='/incidents'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents/[0-9a-f-]{36}([?#].*)?$"))
    incident_url = page.url.split("?")[0].split("#")[0]
    expect(page.locator("h1")).to_contain_text(TITLE)
    expect(page.locator("#attachments")).to_contain_text("bitacora.log")
    expect(page.locator("body")).to_contain_text("TLP:AMBER")
    # The initial notification was the report itself; the final report waits for the CSIRT's request.
    states = deadline_states(page)
    assert len(states) == 2, states
    assert "tiempo" in states[0].lower(), states
    assert "espera" in states[1].lower(), states

    # Download the report and its signed receipt, and verify them as anyone could.
    with page.expect_download() as d:
        page.locator("#submissions a[href$='/report']").first.click()
    report = os.path.join(work, "report.json")
    d.value.save_as(report)
    with page.expect_download() as d:
        page.locator("#submissions a[href$='/receipt']").first.click()
    receipt = os.path.join(work, "receipt.json")
    d.value.save_as(receipt)
    key = json.load(urllib.request.urlopen(base + "/api/v1/receipts/public-key"))["public_key"]
    ok = subprocess.run([BINARY, "receipt", "verify", "--receipt", receipt, "--report", report, "--public-key", key],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    with open(report, "rb") as f:
        tampered = bytearray(f.read())
    tampered[20] ^= 0x01
    with open(report, "wb") as f:
        f.write(tampered)
    bad = subprocess.run([BINARY, "receipt", "verify", "--receipt", receipt, "--report", report, "--public-key", key],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "NOT valid" in bad.stderr, bad.stderr
    shot(page, "incident-reporter.png")
    page.close()
    return incident_url


def coordinator_triages_and_asks(browser, base, incident_url, work):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    enrol_totp(page, base, "coordinacion@atdt.example")
    page.goto(base + "/incidents")
    expect(page.locator("body")).to_contain_text(TITLE)
    # The indicator search finds the report by another spelling of its URL's host.
    page.goto(base + "/observables")
    page.fill("#value", "PORTAL-FALSO.example.")
    page.click("form[action='/observables'] button[type=submit]")
    expect(page.locator("#lookup")).to_contain_text("domain:portal-falso.example")
    page.locator("#lookup a", has_text="BAL-").first.click()
    page.wait_for_url(incident_url)
    page.select_option("#tr-rsit", "intrusions/application-compromise")
    page.select_option("#tr-severity", "critical")
    submit(page, "/triage")
    expect(page.locator(".flash").first).to_be_visible()
    page.fill("#task-title", "Revisar bitácoras del portal y deshabilitar la cuenta nueva")
    submit(page, "/tasks")
    expect(page.locator("#tasks")).to_contain_text("deshabilitar la cuenta nueva")
    page.fill("#request-question", "¿Desde cuándo existe la cuenta de administración nueva?")
    submit(page, "/requests")
    expect(page.locator("#requests")).to_contain_text("cuenta de administración nueva")
    page.select_option("#rs-stage", "final")
    submit(page, "/request-stage")
    # Share it: the STIX 2.1 bundle downloads from the case file, and importing it back (as a partner's
    # bundle would arrive) stores its indicators for correlation.
    with page.expect_download() as d:
        page.click("#stix-export")
    bundle = os.path.join(work, "bundle.stix.json")
    d.value.save_as(bundle)
    with open(bundle, encoding="utf-8") as f:
        objects = json.load(f)["objects"]
    assert any(o["type"] == "incident" for o in objects), [o["type"] for o in objects]
    assert any(o["type"] == "indicator" and "portal-falso.example" in o["pattern"] for o in objects)
    # The demo's campaigns group reports that share indicators; a campaign exports as one bundle.
    page.goto(base + "/campaigns")
    page.locator("a", has_text="Phishing fiscal").first.click()
    expect(page.locator("table")).to_contain_text("BAL-")
    with page.expect_download() as d:
        page.click("#stix-export")
    with open(d.value.path(), encoding="utf-8") as f:
        kinds = {o["type"] for o in json.load(f)["objects"]}
    assert {"campaign", "incident", "indicator"} <= kinds, kinds
    page.goto(base + "/stix/import")
    page.fill("#source", "CSIRT socio (prueba)")
    page.set_input_files("#bundle", bundle)
    page.click("form[action='/stix/import'] button[type=submit]")
    expect(page.locator("#import-summary")).to_be_visible()
    broken = os.path.join(work, "broken.json")
    with open(broken, "w", encoding="utf-8") as f:
        f.write('{"type": "bundle", "id": "bundle--x", "objects": [')
    page.set_input_files("#bundle", broken)
    page.click("form[action='/stix/import'] button[type=submit]")
    expect(page.locator("#import-error")).to_contain_text("line")
    page.goto(incident_url)
    states = deadline_states(page)
    assert "espera" not in states[1].lower(), states
    shot(page, "incident-csirt.png")
    return page


def reporter_answers_and_sends_the_final_report(browser, base, incident_url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    login(page, base, "reportes@sat.example")
    page.goto(incident_url)
    # The final report is now due: its clock runs from the CSIRT's request.
    states = deadline_states(page)
    assert "pendiente" in states[1].lower() or "vencer" in states[1].lower(), states
    expect(page.locator("#tasks")).to_have_count(0)  # the CSIRT's tasks are its own
    page.locator("#requests textarea[name=answer]").first.fill("Desde el 19 de noviembre; ya fue deshabilitada.")
    submit(page, "/answer")
    expect(page.locator("#requests")).to_contain_text("ya fue deshabilitada")
    page.select_option("#stage-stage_id", "final")
    page.fill("#stage-summary", "Causa raíz: contraseña reutilizada sin segundo factor. Se activó MFA.")
    submit(page, "/stages")
    states = deadline_states(page)
    assert all("tiempo" in s.lower() for s in states), states
    page.close()


def coordinator_closes(page, incident_url):
    page.goto(incident_url)
    assert all("tiempo" in s.lower() for s in deadline_states(page)), deadline_states(page)
    expect(page.locator("#requests")).to_contain_text("ya fue deshabilitada")
    page.fill("#cl-resolution", "Cuenta deshabilitada, credenciales restablecidas y MFA activado.")
    page.fill("#cl-lessons", "Segundo factor obligatorio en portales expuestos.")
    submit(page, "/close")
    expect(page.locator("body")).to_contain_text("Cerrado")
    page.close()


def main() -> int:
    if not os.path.exists(CHROMIUM):
        print(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium", file=sys.stderr)
        return 1
    proc, base, data = start_server()
    work = tempfile.mkdtemp(prefix="baluarte-browser-files-")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--no-first-run", "--disable-sync"],
            )
            url = reporter_files_a_report(browser, base, work)
            print("ok - reporter files a report with an attachment and verifies the receipt")
            coordinator = coordinator_triages_and_asks(browser, base, url, work)
            print("ok - coordinator triages, adds a task, asks for information, requests the final report")
            reporter_answers_and_sends_the_final_report(browser, base, url)
            print("ok - reporter answers and sends the final report; the deadline state changes")
            coordinator_closes(coordinator, url)
            print("ok - coordinator closes the incident")
            browser.close()
        print("browser (incidents): 4 passed, 0 failed")
        return 0
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
