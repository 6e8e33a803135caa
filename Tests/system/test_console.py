"""The admin console (admin/) in a real headless Chromium against a real `statusbro serve`.

One server and one browser serve the whole module; each test signs in afresh and works out the
active version itself, so the tests do not depend on their order.
"""
import csv
import io
import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import ARTIFACTS, Server, create_key, database_url, event, eventually

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
ROLES = ("municipality-admin", "auditor", "byggr", "oep-portal")
# The console's entry point. (`/admin/` itself is answered by the router's `/admin` redirect, see the report.)
CONSOLE = "/admin/index.html"


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service():
    env = {"DATABASE_URL": database_url()}
    server = Server(env=env, name="console")
    try:
        server.wait_healthy()
        keys = {role: create_key("sundsvall", role, env) for role in ROLES}
        yield SimpleNamespace(server=server, keys=keys, env=env)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--lang=sv-SE"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    options.set_capability("unhandledPromptBehavior", "accept")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def ui(service, browser):
    browser.set_window_size(1280, 800)
    console = Console(browser, service.server.base)
    yield console
    # Leave no key behind for the next test.
    try:
        browser.execute_script("sessionStorage.clear()")
    except Exception:
        pass


class Console:
    """Drives the console with explicit waits."""

    def __init__(self, driver, base):
        self.driver = driver
        self.base = base

    def wait(self, timeout=10):
        return WebDriverWait(self.driver, timeout, ignored_exceptions=(StaleElementReferenceException,))

    def css(self, selector, within=None):
        return (within or self.driver).find_element(By.CSS_SELECTOR, selector)

    def all(self, selector, within=None):
        return (within or self.driver).find_elements(By.CSS_SELECTOR, selector)

    def visible(self, selector, timeout=10):
        return self.wait(timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def text_in(self, selector, text, timeout=10):
        self.wait(timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))
        return self.css(selector)

    def open(self):
        self.driver.get(self.base + CONSOLE)
        self.visible("#signin-screen, #console")

    def sign_in(self, key, submit_with_enter=False):
        self.open()
        if self.css("#console").is_displayed():
            self.css("#signout-button").click()
        field = self.visible("#apikey")
        field.clear()
        field.send_keys(key)
        if submit_with_enter:
            field.send_keys(Keys.ENTER)
        else:
            self.css("#signin-button").click()
        self.visible("#console")
        self.wait().until(lambda d: self.all("#permissions li"))

    def go(self, screen):
        self.css(f"#nav-{screen}").click()
        self.visible(f"#screen-{screen}")

    def permissions(self):
        return {li.get_attribute("data-permission") for li in self.all("#permissions li")}

    def set_value(self, element, text):
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.DELETE)
        element.send_keys(text)

    def screenshot(self, name, element=None):
        ARTIFACTS.mkdir(exist_ok=True)
        if element is not None:
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'start'}); window.scrollBy(0, -12);", element)
        self.driver.save_screenshot(str(ARTIFACTS / name))

    def unlabelled_controls(self):
        """Ids (or names) of form controls on the page that no <label> names."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('input, select, textarea')]"
            ".filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id || e.name || e.outerHTML)"
        )

    def no_horizontal_scroll(self):
        return self.driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")


# ---- helpers over HTTP ------------------------------------------------------------------------


def ingest(service, case_id, code):
    reply = service.server.post("/api/v1/events", key=service.keys["byggr"], json=event(case_id, code))
    return reply


def active(service):
    reply = service.server.get("/admin/v1/rules", key=service.keys["municipality-admin"])
    assert reply.status_code == 200, reply.text
    return reply.json()


def publish_behind_the_back(service, change, comment):
    release = active(service)
    document = release["document"]
    change(document)
    reply = service.server.post(
        "/admin/v1/rules/publish", key=service.keys["municipality-admin"], json={"baseVersion": release["version"], "comment": comment, "document": document}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["version"]


def portal_status(service, case_id):
    reply = service.server.get(f"/casestatus/1.0/{quote(case_id)}/status", key=service.keys["oep-portal"])
    assert reply.status_code == 200, reply.text
    return reply.json()["status"]


def wait_for_download(directory: Path, prefix, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        done = [p for p in directory.iterdir() if p.name.startswith(prefix) and not p.name.endswith(".crdownload")]
        if done:
            return done[0]
        time.sleep(0.05)
    raise AssertionError(f"no download starting with {prefix} in {list(directory.iterdir())}")


def start_draft_from_active(ui):
    """Opens the draft screen and replaces whatever draft the tenant had with the active release."""
    ui.go("draft")
    ui.visible("#draft-reset").click()
    ui.visible("#confirm-dialog")
    ui.css("#confirm-ok").click()
    ui.text_in("#draft-action-message", "The draft now holds version")


# ---- the tests --------------------------------------------------------------------------------


def test_edit_validate_publish_roll_back_and_export(service, ui, browser):
    # Two existing cases whose code a publish will re-map.
    for case_id in ("BYGG 2024-7001", "BYGG 2024-7002"):
        assert ingest(service, case_id, "KOMPTEK").status_code == 201
    assert portal_status(service, "BYGG 2024-7001") == "Kompletterad"

    # A wrong key is refused in plain words; the right one shows the tenant and what it may do.
    ui.open()
    ui.screenshot("console-signin.png")
    ui.css("#apikey").send_keys("sbk_sundsvall_not-a-real-key")
    ui.css("#signin-button").click()
    assert "not accepted" in ui.visible("#signin-error").text
    ui.sign_in(service.keys["municipality-admin"])
    assert ui.css("#tenant-name").text == "Sundsvalls kommun"
    assert ui.permissions() == {"rules:read", "rules:write", "rules:publish", "deadletters:manage"}
    assert not ui.css("#nav-audit").is_displayed()
    assert browser.execute_script("return localStorage.length") == 0
    assert "sbk_" not in browser.current_url

    # The rules view: the release, a searchable mapping table, statuses and the matrix.
    release = active(service)
    start_version = release["version"]
    ui.go("rules")
    ui.text_in("[data-testid=release-version]", str(start_version))
    byggr = ui.visible("table[data-testid=mapping-table][data-source=BYGGR]")
    komptek = ui.css("tr[data-code=KOMPTEK]", byggr)
    assert [cell.text for cell in ui.all("th, td", komptek)] == ["KOMPTEK", "Kompletterad", "Svar"]
    search = ui.css("input[data-testid=mapping-search][data-source=BYGGR]")
    search.send_keys("komplettering")
    ui.wait().until(lambda d: len([r for r in ui.all("tbody tr", byggr) if r.is_displayed()]) == 2)
    assert {r.get_attribute("data-code") for r in ui.all("tbody tr", byggr) if r.is_displayed()} == {"KOMP", "KOMP1"}
    search.clear()
    search.send_keys("ansökan")
    ui.wait().until(lambda d: [r.get_attribute("data-code") for r in ui.all("tbody tr", byggr) if r.is_displayed()] == ["ANSÖKAN"])
    search.clear()
    search.send_keys(Keys.BACKSPACE)
    matrix = ui.css("table[data-testid=transition-matrix]")
    move = lambda a, b: ui.css(f"tr[data-from='{a}'] td[data-to='{b}']", matrix).get_attribute("data-move")
    assert move("Klart", "Inskickat") == "deny"
    assert move("Klart", "Ärendet arkiveras") == "allow"
    assert move("Inskickat", "Klart") == "allow"
    assert move("Klart", "Klart") == "stay"
    assert {move("Ärendet arkiveras", other) for other in ("Inskickat", "Klart", "Under behandling")} == {"deny"}
    finals = ui.css("table[data-testid=statuses-table] tr[data-status='Ärendet arkiveras']").text
    assert "Yes" in finals
    ui.driver.execute_script("window.scrollTo(0, 0)")
    ui.screenshot("console-rules.png")

    # Draft: a typo in the KOMPTEK mapping is reported at that very row.
    start_draft_from_active(ui)
    row = ui.visible("tr[data-testid=draft-mapping][data-source=BYGGR][data-code=KOMPTEK]")
    status_input = ui.css("input[data-field=status]", row)
    ui.set_value(status_input, "Under behandlng")
    ui.css("#draft-validate").click()
    finding = ui.wait().until(lambda d: ui.all("[data-testid=finding]", row))[0]
    assert "Under behandlng" in finding.text and "not a portal status" in finding.text
    assert finding.get_attribute("data-path") == "sources.BYGGR.codes.KOMPTEK"
    assert status_input.get_attribute("aria-invalid") == "true"
    assert finding.get_attribute("id") in status_input.get_attribute("aria-describedby").split()
    assert ui.all("[data-testid=finding]") == [finding], "the only finding is at the KOMPTEK row"
    assert "1 error" in ui.css("#validation-summary").text
    assert "Did you mean “Under behandling”" in finding.text
    ui.screenshot("console-draft-validation.png", element=ui.css("tr[data-code=KOMPREV]"))

    # Fixed: no findings, the tests pass, and the impact names the two cases.
    ui.set_value(status_input, "Under behandling")
    assert status_input.get_attribute("aria-invalid") is None
    ui.css("#draft-validate").click()
    ui.text_in("[data-testid=validation-verdict]", "The draft is valid")
    assert ui.css("#impact-sentence").text == "2 existing cases would change status: KOMPTEK 2"
    assert ui.all("[data-testid=finding]") == []
    assert ui.css("[data-testid=tests-summary]").text == "Rule tests: all 10 pass"
    impact_rows = ui.all("table[data-testid=impact-table] tbody tr")
    assert [c.text for c in ui.all("td", impact_rows[0])] == ["BYGGR", "KOMPTEK", "2", "Kompletterad", "Under behandling"]

    # Simulate against the draft: the new mapping, and a move Klart does not allow.
    Select(ui.css("#draft-sim-source")).select_by_value("BYGGR")
    ui.css("#draft-sim-code").send_keys("KOMPTEK")
    Select(ui.css("#draft-sim-from")).select_by_value("Klart")
    ui.css("#draft-sim-run").click()
    result = ui.text_in("#draft-sim-result", "Under behandling")
    assert "may NOT move" in result.text and "ILLEGAL_TRANSITION" in result.text
    ui.css("#draft-save").click()
    ui.text_in("[data-testid=save-result]", "Draft saved")
    saved = service.server.get("/admin/v1/rules/draft", key=service.keys["municipality-admin"]).json()
    assert saved["document"]["sources"]["BYGGR"]["codes"]["KOMPTEK"] == "Under behandling"

    # Publish; the portal shows the new status of an existing case.
    comment = "KOMPTEK visar nu ”Under behandling”: en teknisk komplettering är inget svar på föreläggandet"
    ui.css("#publish-comment").send_keys(comment)
    ui.css("#draft-publish").click()
    ui.text_in("[data-testid=publish-success]", f"Published version {start_version + 1}")
    assert active(service)["version"] == start_version + 1
    assert eventually(lambda: portal_status(service, "BYGG 2024-7001") == "Under behandling")
    assert portal_status(service, "BYGG 2024-7002") == "Under behandling"

    # Versions: a readable diff of the publish, then a confirmed roll back.
    ui.go("versions")
    diff = ui.visible("table[data-testid=diff-table]")
    changed = ui.css("tr[data-path='sources.BYGGR.codes.KOMPTEK']", diff)
    assert changed.get_attribute("data-change") == "changed"
    assert "BYGGR code KOMPTEK" in changed.text
    assert ui.css("td.old", changed).text == "Kompletterad" and ui.css("td.new", changed).text == "Under behandling"
    assert ui.css("[data-testid=diff-summary]").text == f"1 change from version {start_version} to version {start_version + 1}:"
    ui.screenshot("console-versions.png")
    ui.css(f"button[data-testid=rollback][data-version='{start_version}']").click()
    dialog = ui.visible("#confirm-dialog")
    assert f"Roll back to version {start_version}?" in dialog.text
    # Cancelling changes nothing.
    ui.css("#confirm-cancel").click()
    ui.wait().until(EC.invisibility_of_element_located((By.ID, "confirm-dialog")))
    assert active(service)["version"] == start_version + 1
    ui.css(f"button[data-testid=rollback][data-version='{start_version}']").click()
    ui.visible("#confirm-dialog")
    ui.set_value(ui.css("#confirm-comment"), "Åter till förra versionen tills Byggr-ärendena är granskade")
    ui.css("#confirm-ok").click()
    ui.text_in("[data-testid=rollback-success]", f"version {start_version + 2} is active now")
    assert active(service)["rolledBackFrom"] == start_version
    assert eventually(lambda: portal_status(service, "BYGG 2024-7001") == "Kompletterad")

    # Sign out forgets the key; an auditor downloads the history for a date range.
    ui.css("#signout-button").click()
    ui.visible("#signin-screen")
    assert browser.execute_script("return sessionStorage.getItem('statusbro.apikey')") is None
    ui.sign_in(service.keys["auditor"])
    ui.go("audit")
    today = datetime.now(timezone.utc).date()
    for field, day in (("#audit-from", today - timedelta(days=1)), ("#audit-to", today + timedelta(days=1))):
        browser.execute_script("arguments[0].value = arguments[1]", ui.css(field), day.isoformat())
    ui.css("#dl-rules-csv").click()
    ui.text_in("[data-testid=audit-saved]", "Saved rules-history-sundsvall_")
    path = wait_for_download(browser.downloads, "rules-history-sundsvall_")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV starts with a UTF-8 byte-order mark"
    text = raw.decode("utf-8")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert rows[0] == ["version", "publishedAt", "publishedBy", "comment", "path", "change", "old", "new"]
    published = [r for r in rows[1:] if r[0] == str(start_version + 1) and r[4] == "sources.BYGGR.codes.KOMPTEK"]
    assert published and published[0][3] == comment and published[0][5:] == ["changed", "Kompletterad", "Under behandling"]
    rolled_back = [r for r in rows[1:] if r[0] == str(start_version + 2) and r[4] == "sources.BYGGR.codes.KOMPTEK"]
    assert rolled_back and rolled_back[0][3] == "Åter till förra versionen tills Byggr-ärendena är granskade"
    assert rolled_back[0][5:] == ["changed", "Under behandling", "Kompletterad"]

    ui.css("#audit-case").send_keys("BYGG 2024-7001")
    ui.css("#dl-decisions-json").click()
    ui.text_in("[data-testid=audit-saved]", "Saved decisions-sundsvall_")
    decisions = json.loads(wait_for_download(browser.downloads, "decisions-sundsvall_").read_text(encoding="utf-8"))
    assert [d["externalCaseId"] for d in decisions] == ["BYGG 2024-7001"] and decisions[0]["rawStatus"] == "KOMPTEK"
    browser.execute_script("window.scrollTo(0, 0)")
    ui.screenshot("console-audit.png")
    assert ui.unlabelled_controls() == []


def test_publish_after_someone_else_published_says_so(service, ui):
    ui.sign_in(service.keys["municipality-admin"])
    start_draft_from_active(ui)
    base = active(service)["version"]
    assert ui.css("[data-testid=draft-status]").text.startswith(f"Based on version {base}")
    row = ui.visible("tr[data-testid=draft-mapping][data-source=BYGGR][data-code=Kv2]")
    ui.set_value(ui.css("input[data-field=status]", row), "Inskickat")

    def ecos(document):
        document["sources"]["ECOS"]["codes"]["Komplettering"] = "Under behandling"

    theirs = publish_behind_the_back(service, ecos, "Ecos: komplettering hanteras som ärende under behandling")
    ui.css("#publish-comment").send_keys("Kv2 betyder att ärendet är mottaget")
    ui.css("#draft-publish").click()
    conflict = ui.text_in("[data-testid=version-conflict]", f"someone else published version {theirs} while you were editing")
    assert f"started from version {base}" in conflict.text
    assert active(service)["version"] == theirs, "nothing was published"
    assert f"now version {theirs}" in ui.visible("#draft-base-warning").text

    # Publishing over their version is a deliberate choice.
    ui.css("#publish-result [data-testid=conflict-rebase]").click()
    ui.text_in("[data-testid=draft-status]", f"Based on version {theirs}")
    ui.css("#publish-comment").send_keys("Kv2 betyder att ärendet är mottaget")
    ui.css("#draft-publish").click()
    ui.text_in("[data-testid=publish-success]", f"Published version {theirs + 1}")
    assert active(service)["document"]["sources"]["BYGGR"]["codes"]["Kv2"] == "Inskickat"


def test_form_adds_and_removes_mappings_statuses_and_moves(service, ui, browser):
    ui.sign_in(service.keys["municipality-admin"])
    start_draft_from_active(ui)

    ui.css("button[data-testid=add-mapping][data-source=BYGGR]").click()
    new_row = ui.all("tr[data-testid=draft-mapping][data-source=BYGGR]")[-1]
    code = ui.css("input[data-field=code]", new_row)
    assert browser.switch_to.active_element == code, "the new row's first field has the focus"
    code.send_keys("GRANSKNING")
    ui.css("input[data-field=status]", new_row).send_keys("Under behandling")
    assert ui.css("td.derived", new_row).text == "Upplysning"
    ui.css("tr[data-testid=draft-mapping][data-code=UTSKICK] [data-testid=remove-mapping]").click()
    assert ui.all("tr[data-testid=draft-mapping][data-code=UTSKICK]") == []

    ui.css("[data-testid=add-status]").click()
    status_row = ui.all("tr[data-testid=draft-status]")[-1]
    ui.css("input[data-field=name]", status_row).send_keys("Överklagat")
    ui.css("input[data-field=category]", status_row).send_keys("Föreläggande")

    ui.css("[data-testid=add-rule]").click()
    rule = ui.all("fieldset[data-testid=draft-rule]")[-1]
    ui.css("input[data-field=from]", rule).send_keys("Kompletterad")
    for target in ("Under behandling", "Överklagat"):
        box = ui.css(f"input[data-target='{target}']", rule)
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()
    assert not ui.css("input[data-target='Kompletterad']", rule).is_enabled(), "staying is not a move"
    preview = lambda to: ui.css(f"table[data-testid=draft-matrix] tr[data-from='Kompletterad'] td[data-to='{to}']").get_attribute("data-move")
    ui.wait().until(lambda d: preview("Inskickat") == "deny" and preview("Överklagat") == "allow" and preview("Under behandling") == "allow")

    ui.css("#draft-save").click()
    ui.text_in("[data-testid=save-result]", "Draft saved")
    saved = service.server.get("/admin/v1/rules/draft", key=service.keys["municipality-admin"]).json()["document"]
    assert saved["sources"]["BYGGR"]["codes"]["GRANSKNING"] == "Under behandling"
    assert "UTSKICK" not in saved["sources"]["BYGGR"]["codes"]
    assert saved["statuses"][-1] == {"name": "Överklagat", "category": "Föreläggande"}
    assert saved["transitions"]["rules"][-1] == {"from": "Kompletterad", "to": ["Under behandling", "Överklagat"]}
    ui.css("#draft-validate").click()
    ui.text_in("[data-testid=validation-verdict]", "The draft is valid")
    assert ui.unlabelled_controls() == []


def test_json_view_and_findings_the_form_does_not_show(service, ui, browser):
    ui.sign_in(service.keys["municipality-admin"])
    start_draft_from_active(ui)
    ui.css("#view-json").click()
    area = ui.visible("#draft-json")
    document = json.loads(area.get_attribute("value"))
    assert document["sources"]["BYGGR"]["codes"]["ANSÖKAN"] == "Inskickat"
    document["roles"]["auditor"].append("audit:everything")
    document["statuses"][1]["category"] = "Upplysningar"
    browser.execute_script("arguments[0].value = arguments[1]", area, json.dumps(document, ensure_ascii=False, indent=2))
    # Validate takes the JSON into the form and puts each finding where it belongs.
    ui.css("#draft-validate").click()
    general = ui.visible("#general-findings")
    assert "roles.auditor[2]" in general.text and "audit:everything" in general.text
    category = ui.css("tr[data-testid=draft-status][data-index='1'] input[data-field=category]")
    assert category.is_displayed() and category.get_attribute("aria-invalid") == "true"
    finding = ui.css("tr[data-testid=draft-status][data-index='1'] [data-testid=finding]")
    assert finding.get_attribute("data-path") == "statuses[1].category" and "Did you mean “Upplysning”" in finding.text
    ui.css("[data-testid=apply-suggestion]", finding).click()
    assert category.get_attribute("value") == "Upplysning" and category.get_attribute("aria-invalid") is None
    # JSON that does not parse is refused in plain words, and the JSON view stays open.
    ui.css("#view-json").click()
    browser.execute_script("arguments[0].value = '{\"tenant\": '", ui.visible("#draft-json"))
    ui.css("#view-form").click()
    assert "does not parse" in ui.visible("#draft-json-error").text
    assert ui.css("#draft-json").is_displayed() and not ui.css("#draft-form").is_displayed()


def test_auditor_sees_no_edit_or_publish_controls(service, ui):
    ui.sign_in(service.keys["auditor"])
    assert ui.permissions() == {"rules:read", "audit:export"}
    assert ui.css("#nav-rules").is_displayed() and ui.css("#nav-versions").is_displayed() and ui.css("#nav-audit").is_displayed()
    assert not ui.css("#nav-draft").is_displayed()
    assert not ui.css("#nav-deadletters").is_displayed()
    # Asking for the draft by address shows the first screen the key may see, the overview, instead.
    ui.driver.get(ui.base + CONSOLE + "#draft")
    ui.visible("#screen-overview")
    ui.visible("table[data-testid=cases-by-status]")
    assert not ui.css("#screen-draft").is_displayed()
    ui.go("rules")
    ui.visible("table[data-testid=mapping-table]")
    assert ui.all("#draft-publish, #draft-save, #draft-validate") == []
    ui.go("versions")
    ui.visible("table[data-testid=versions-table]")
    assert ui.all("button[data-testid=rollback]") == []
    assert ui.all("[data-testid=compare-previous]")


def test_dead_letters_are_listed_by_reason_and_replayed(service, ui):
    parked = ingest(service, "BYGG 2024-7100", "ÄNDRAD")
    assert parked.status_code == 422 and parked.json()["code"] == "UNMAPPED_STATUS"
    assert ingest(service, "BYGG 2024-7101", "SAKNAS").status_code == 422
    publish_behind_the_back(service, lambda d: d["sources"]["BYGGR"]["codes"].__setitem__("ÄNDRAD", "Under behandling"), "Ny Byggr-kod ÄNDRAD")

    ui.sign_in(service.keys["municipality-admin"])
    ui.go("deadletters")
    group = ui.visible("[data-testid=dl-group][data-code=UNMAPPED_STATUS]")
    rows = ui.all("tr[data-testid=dl-row]", group)
    assert len(rows) == 2
    assert "BYGGR ÄNDRAD (1)" in group.text and "BYGG 2024-7100" in group.text
    ui.screenshot("console-deadletters.png")

    target = ui.css(f"tr[data-id='{parked.json()['deadLetterId']}'] button[data-testid=dl-replay]")
    target.click()
    accepted = ui.text_in("#dl-results", "Accepted: BYGG 2024-7100")
    assert "Under behandling" in accepted.text
    ui.wait().until(lambda d: len(ui.all("tr[data-testid=dl-row]")) == 1)
    assert portal_status(service, "BYGG 2024-7100") == "Under behandling"

    ui.css("#dl-replay-all").click()
    summary = ui.text_in("[data-testid=dl-summary]", "Replayed 1: 0 accepted, 1 refused again")
    assert "SAKNAS" in ui.css("#dl-results").text or "No mapping" in ui.css("#dl-results").text
    assert summary.is_displayed()
    # It stays parked, and shows under "All" as replayed once.
    Select(ui.css("#dl-state")).select_by_value("all")
    ui.wait().until(lambda d: len(ui.all("tr[data-testid=dl-row]")) >= 2)
    states = {r.get_attribute("data-state") for r in ui.all("tr[data-testid=dl-row]")}
    assert states == {"pending", "replayed"}


def test_narrow_window_and_keyboard(service, ui, browser):
    # Headless Chromium keeps windows at least 500 px wide; emulate a 400 px wide viewport instead.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 400, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    try:
        narrow_window(service, ui)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    keyboard(ui, browser)


def narrow_window(service, ui):
    assert ui.driver.execute_script("return window.innerWidth") == 400
    ui.sign_in(service.keys["municipality-admin"], submit_with_enter=True)
    ui.go("rules")
    ui.visible("table[data-testid=mapping-table][data-source=BYGGR] tr[data-code=KOMPTEK]")
    assert ui.no_horizontal_scroll(), "the rules view fits a 400 px window"
    ui.screenshot("console-narrow-rules.png")
    ui.screenshot("console-narrow-mapping.png", element=ui.css("section[data-testid=source][data-source=BYGGR]"))
    ui.go("draft")
    ui.visible("tr[data-testid=draft-mapping][data-code=KOMPTEK]")
    assert ui.no_horizontal_scroll(), "the draft fits a 400 px window"
    ui.screenshot("console-narrow-draft.png", element=ui.css("fieldset[data-source=BYGGR]"))


def keyboard(ui, browser):
    """The keyboard reaches the tabs, focus is visible, and Enter opens a tab."""
    ui.go("rules")
    ui.css("#signout-button").send_keys(Keys.SHIFT, Keys.TAB)  # focus via keyboard, then move on
    focused = browser.switch_to.active_element
    for _ in range(10):
        if focused.get_attribute("id") == "nav-rules":
            break
        focused.send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
    assert focused.get_attribute("id") == "nav-rules"
    style = browser.execute_script("const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]")
    assert style[0] != "none" and style[1] != "0px"
    focused.send_keys(Keys.TAB)
    browser.switch_to.active_element.send_keys(Keys.ENTER)  # the Draft tab
    ui.visible("#screen-draft")
