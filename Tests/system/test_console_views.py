"""The console's pictures and overview in a real headless Chromium against a real `statusbro serve`:
the mapping chain, the status flow, the overview with its numbers, and progress for long work.

Each drawn element is checked against the data it stands for: the arrows of the status flow against
the allowed moves worked out here from the rules (independently of the console's JavaScript) and
against the matrix; the chain's nodes against the mapping table and the parked dead letters; the
overview's numbers against the API. Screenshots go to artifacts/console-*.png.
"""
import time
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

from conftest import create_key
from test_console import (  # noqa: F401  (fixtures)
    active,
    browser,
    ingest,
    publish_behind_the_back,
    service,
    start_draft_from_active,
    ui,
)

NO_MAPPING = "(no mapping: refused)"


# ---- the rules, worked out here ---------------------------------------------------------------


def allowed_moves(document):
    """The moves the engine allows (README and RuleSnapshot): a status with a rule may move only to
    the statuses it lists (the last rule naming it wins); a final status (final: true, or a rule
    with no targets) never moves; otherwise the default; staying is not a move."""
    names = []
    for status in document["statuses"]:
        if status["name"] not in names:
            names.append(status["name"])
    transitions = document.get("transitions") or {}
    rules = {}
    for rule in transitions.get("rules") or []:
        if rule["from"] in names:
            rules[rule["from"]] = rule.get("to") or []
    finals = {s["name"] for s in document["statuses"] if s.get("final")} | {name for name, to in rules.items() if not to}
    allow_by_default = transitions.get("default", "allow") != "deny"
    moves = set()
    for a in names:
        for b in names:
            if a == b or a in finals:
                continue
            if (b in rules[a]) if a in rules else allow_by_default:
                moves.add((a, b))
    return moves, finals


def slow_requests(browser, fragment, milliseconds):
    """Delays the page's requests whose URL contains `fragment`, so that the test can see the work in progress."""
    browser.execute_script(
        """
        const [fragment, delay] = arguments;
        if (!window.__realFetch) window.__realFetch = window.fetch;
        window.fetch = async (url, init) => {
          if (String(url).includes(fragment)) await new Promise((resolve) => setTimeout(resolve, delay));
          return window.__realFetch(url, init);
        };
        """,
        fragment,
        milliseconds,
    )


def stats(service, path, key="auditor"):
    reply = service.server.get(path, key=service.keys[key])
    assert reply.status_code == 200, reply.text
    return reply.json()


# ---- the tests --------------------------------------------------------------------------------


def test_status_flow_draws_one_arrow_per_allowed_move(service, ui, browser):
    ui.sign_in(service.keys["auditor"])
    ui.go("rules")
    document = active(service)["document"]
    moves, finals = allowed_moves(document)
    flow = ui.visible("svg[data-testid=status-flow]")
    arrows = {(p.get_attribute("data-from"), p.get_attribute("data-to")) for p in ui.all("path.flow-move", flow)}
    assert len(ui.all("path.flow-move", flow)) == len(moves) == 21
    assert arrows == moves
    # The matrix says the same.
    allowed_cells = {
        (cell.find_element(By.XPATH, "..").get_attribute("data-from"), cell.get_attribute("data-to"))
        for cell in ui.all("table[data-testid=transition-matrix] td[data-move=allow]")
    }
    assert allowed_cells == moves
    assert {g.get_attribute("data-status") for g in ui.all("g.flow-status[data-final=true]", flow)} == finals == {"Ärendet arkiveras"}
    assert [g.get_attribute("data-status") for g in ui.all("g.flow-status[data-initial=true]", flow)] == ["Inskickat"]
    assert "final" in ui.css("g.flow-status[data-final=true] text.flow-tag", flow).text
    ui.screenshot("console-flow.png", element=ui.css("#moves-title"))

    # Picking a status with the keyboard leaves only its moves lit, and says them in words.
    chooser = ui.css("select[data-testid=status-flow-from]")
    chooser.send_keys("Klart")
    ui.text_in("[data-testid=status-flow-focus]", "Klart may move to Ärendet arkiveras.")
    lit = [(p.get_attribute("data-from"), p.get_attribute("data-to")) for p in ui.all("path.flow-move.on", flow)]
    assert lit == [("Klart", "Ärendet arkiveras")]
    assert len(ui.all("path.flow-move.dim", flow)) == len(moves) - 1
    ui.screenshot("console-flow-picked.png", element=ui.css("#moves-title"))
    assert ui.unlabelled_controls() == []


def test_draft_flow_follows_the_rules_being_edited(service, ui, browser):
    ui.sign_in(service.keys["municipality-admin"])
    start_draft_from_active(ui)
    ui.css("[data-testid=add-rule]").click()
    rule = ui.all("fieldset[data-testid=draft-rule]")[-1]
    ui.css("input[data-field=from]", rule).send_keys("Kompletterad")
    box = ui.css("input[data-target='Under behandling']", rule)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    document = active(service)["document"]
    document["transitions"]["rules"].append({"from": "Kompletterad", "to": ["Under behandling"]})
    moves, _ = allowed_moves(document)
    assert len(moves) == 17
    ui.wait().until(lambda d: len(ui.all("svg[data-testid=draft-flow] path.flow-move")) == len(moves))
    drawn = {(p.get_attribute("data-from"), p.get_attribute("data-to")) for p in ui.all("svg[data-testid=draft-flow] path.flow-move")}
    assert drawn == moves
    ui.screenshot("console-draft-flow.png", element=ui.css("#preview-title"))


def test_mapping_chain_marks_parked_codes_and_what_a_draft_changes(service, ui, browser):
    parked_code = "GRANSK" + uuid.uuid4().hex[:4].upper()
    for n in range(2):
        reply = ingest(service, f"BYGG 2024-75{n:02d}", parked_code)
        assert reply.status_code == 422 and reply.json()["code"] == "UNMAPPED_STATUS"
    document = active(service)["document"]
    codes = document["sources"]["BYGGR"]["codes"]
    categories = {s["name"]: s["category"] for s in document["statuses"]}

    ui.sign_in(service.keys["auditor"])
    ui.go("rules")
    chain = ui.visible("svg[data-testid=mapping-chain][data-source=BYGGR]")
    nodes = {g.get_attribute("data-code"): g for g in ui.all("g.chain-code", chain)}
    # Every code of the table, plus the parked one, each leading to the status the table gives.
    assert set(nodes) == set(codes) | {parked_code}
    for code, status in codes.items():
        assert nodes[code].get_attribute("data-status") == status
    edges = {(p.get_attribute("data-code"), p.get_attribute("data-to")) for p in ui.all("path.code-edge", chain)}
    assert edges == {(code, status) for code, status in codes.items()} | {(parked_code, NO_MAPPING)}
    # Each status leads to its category.
    status_edges = {(p.get_attribute("data-status"), p.get_attribute("data-to")) for p in ui.all("path.status-edge", chain)}
    assert status_edges == set(categories.items())
    # The parked code is marked in colour and in words, and listed for screen readers.
    parked = nodes[parked_code]
    assert parked.get_attribute("data-state") == "unmapped" and "state-unmapped" in parked.get_attribute("class")
    assert parked.get_attribute("data-parked") == "2"
    assert "2 parked" in parked.text
    assert browser.execute_script("return getComputedStyle(arguments[0].querySelector('rect')).fill", parked) != browser.execute_script(
        "return getComputedStyle(arguments[0].querySelector('rect')).fill", nodes["ANM"]
    )
    listed = ui.css(f"[data-testid=chain-highlights][data-source=BYGGR] li[data-code='{parked_code}']")
    assert "no mapping; 2 message(s) parked" in listed.text
    assert "1 code from pending dead letters has no mapping" in chain.find_element(By.TAG_NAME, "desc").get_attribute("textContent")
    # ECOS has no parked code: nothing marked.
    ecos = ui.css("svg[data-testid=mapping-chain][data-source=ECOS]")
    assert {g.get_attribute("data-state") for g in ui.all("g.chain-code", ecos)} == {"mapped"}
    ui.screenshot("console-chain.png", element=ui.css("#chain-title"))

    # The draft: map the parked code, change one mapping, remove another.
    ui.css("#signout-button").click()
    ui.sign_in(service.keys["municipality-admin"])
    start_draft_from_active(ui)
    ui.css("button[data-testid=add-mapping][data-source=BYGGR]").click()
    row = ui.all("tr[data-testid=draft-mapping][data-source=BYGGR]")[-1]
    ui.css("input[data-field=code]", row).send_keys(parked_code)
    ui.css("input[data-field=status]", row).send_keys("Under behandling")
    ui.set_value(ui.css("tr[data-testid=draft-mapping][data-code=KOMPTEK] input[data-field=status]"), "Under behandling")
    ui.css("tr[data-testid=draft-mapping][data-code=UTSKICK] [data-testid=remove-mapping]").click()
    preview = "#draft-chain-preview svg[data-testid=mapping-chain][data-source=BYGGR]"

    def states():
        return {g.get_attribute("data-code"): g.get_attribute("data-state") for g in ui.all(f"{preview} g.chain-code")}

    ui.wait().until(lambda d: states().get("KOMPTEK") == "changed" and states().get("UTSKICK") == "removed")
    drawn = states()
    assert drawn[parked_code] == "fixed", "mapped by the draft, its parked messages wait for a replay"
    assert {code for code, state in drawn.items() if state != "mapped"} == {parked_code, "KOMPTEK", "UTSKICK"}
    assert ui.css(f"{preview} g.chain-code[data-code=KOMPTEK]").get_attribute("data-status") == "Under behandling"
    highlights = ui.css("#draft-chain-preview [data-testid=chain-highlights][data-source=BYGGR]").text
    assert "the draft changes it: “Kompletterad” → “Under behandling”" in highlights
    assert "the draft removes it" in highlights and "2 parked message(s) wait for a replay" in highlights
    ui.screenshot("console-draft-chain.png", element=ui.css("#chain-preview-title"))
    # Leave no draft edits behind for the other tests.
    start_draft_from_active(ui)


def test_overview_numbers_match_the_api_and_replay_after_a_fix(service, ui, browser):
    code = "NYSTATUS" + uuid.uuid4().hex[:4].upper()
    for n, status in enumerate(["ANM", "KOMP", "KOMP", "SLU"]):
        assert ingest(service, f"BYGG 2024-76{n:02d}", status).status_code in (200, 201)
    for n in range(3):
        assert ingest(service, f"BYGG 2024-77{n:02d}", code).status_code == 422

    ui.sign_in(service.keys["municipality-admin"])
    # The overview is the first screen.
    ui.visible("#screen-overview")
    ui.visible("table[data-testid=cases-by-status]")
    cases = stats(service, "/admin/v1/stats/cases")
    assert ui.css("[data-testid=cases-total]").text == str(cases["total"]) and cases["total"] >= 4
    for row in cases["byStatus"]:
        tr = ui.css(f"table[data-testid=cases-by-status] tr[data-key='{row['status']}']")
        assert tr.get_attribute("data-cases") == str(row["cases"]) and ui.css(".count", tr).text == str(row["cases"])
        assert row["category"] in tr.text
    for row in cases["byCategory"]:
        tr = ui.css(f"table[data-testid=cases-by-category] tr[data-key='{row['category']}']")
        assert tr.get_attribute("data-cases") == str(row["cases"])
    # The longest bar belongs to the largest count.
    widths = {tr.get_attribute("data-key"): tr.find_element(By.CSS_SELECTOR, ".bar").size["width"] for tr in ui.all("table[data-testid=cases-by-status] tbody tr")}
    largest = max(cases["byStatus"], key=lambda row: row["cases"])["status"]
    assert max(widths, key=widths.get) == largest

    ingest_stats = stats(service, "/admin/v1/stats/ingest?hours=72")
    assert ui.css("[data-testid=ingest-accepted]").text == str(ingest_stats["accepted"])
    assert ui.css("[data-testid=ingest-dead-lettered]").text == str(ingest_stats["deadLettered"])
    columns = ui.all("svg[data-testid=ingest-chart] g.hour")
    assert len(columns) == 72
    assert sum(int(g.get_attribute("data-accepted")) for g in columns) == ingest_stats["accepted"]
    assert sum(int(g.get_attribute("data-dead-lettered")) for g in columns) == ingest_stats["deadLettered"]
    assert columns[-1].get_attribute("data-hour") == ingest_stats["perHour"][-1]["hour"]
    assert ui.all("svg[data-testid=ingest-chart] g.hour rect.dead-lettered"), "the dead-lettered hour is drawn"

    letters = stats(service, "/admin/v1/stats/deadletters")
    group = ui.css("[data-testid=overview-dl-code][data-code=UNMAPPED_STATUS]")
    unmapped = next(entry for entry in letters["byCode"] if entry["code"] == "UNMAPPED_STATUS")
    assert group.get_attribute("data-count") == str(unmapped["count"])
    subject = ui.css(f"li[data-raw='{code}']", group)
    assert subject.get_attribute("data-count") == "3" and "still no mapping" in subject.text
    browser.execute_script("window.scrollTo(0, 0)")
    ui.screenshot("console-overview.png")
    ui.screenshot("console-overview-deadletters.png", element=ui.css("#overview-dl-title"))

    # Another period: as many columns as hours.
    Select(ui.css("#overview-window")).select_by_value("24")
    ui.wait().until(lambda d: len(ui.all("svg[data-testid=ingest-chart] g.hour")) == 24)

    # The fix is published elsewhere; the overview says a replay should succeed, and one click does it.
    publish_behind_the_back(service, lambda d: d["sources"]["BYGGR"]["codes"].__setitem__(code, "Under behandling"), f"Ny kod {code}")
    ui.css("#overview-refresh").click()
    ui.wait().until(lambda d: "a replay should succeed" in ui.css(f"[data-code=UNMAPPED_STATUS] li[data-raw='{code}']").text)
    pending_before = stats(service, "/admin/v1/stats/deadletters")["byCode"]
    unmapped_before = next(entry["count"] for entry in pending_before if entry["code"] == "UNMAPPED_STATUS")
    slow_requests(browser, "/replay", 150)
    ui.css("[data-testid=overview-replay][data-code=UNMAPPED_STATUS]").click()
    bar = ui.visible("[data-testid=overview-progress] progress")
    assert bar.get_attribute("max") == str(unmapped_before)
    assert ui.css("#overview-refresh").get_attribute("disabled") is not None, "controls are disabled meanwhile"
    ui.screenshot("console-overview-replaying.png", element=ui.css("#overview-dl-title"))
    summary = ui.text_in("[data-testid=overview-replay-summary]", f"Replayed {unmapped_before}:", timeout=20)
    assert "refused again" in summary.text
    assert ui.css("[data-testid=overview-progress]").get_attribute("data-state") in ("done", "failed")
    assert ui.css("[data-testid=overview-progress] progress").get_attribute("value") == str(unmapped_before)
    # The three messages of the fixed code are applied; the overview and the API agree again.
    ui.wait().until(lambda d: not ui.all(f"li[data-raw='{code}']"))
    # The list (and its button) was redrawn: the keyboard focus rests on the outcome, not on nothing.
    assert browser.switch_to.active_element.get_attribute("data-testid") == "overview-progress"
    assert all(ingest_status(service, f"BYGG 2024-77{n:02d}") == "Under behandling" for n in range(3))
    assert ui.css("#overview-refresh").get_attribute("disabled") is None


def ingest_status(service, case_id):
    reply = service.server.get(f"/api/v1/cases/{case_id.replace(' ', '%20')}", key=service.keys["municipality-admin"])
    assert reply.status_code == 200, reply.text
    return reply.json()["status"]


def test_long_work_shows_progress_and_can_stop(service, ui, browser):
    code = "VANTAR" + uuid.uuid4().hex[:4].upper()
    for n in range(12):
        assert ingest(service, f"BYGG 2024-78{n:02d}", code).status_code == 422
    publish_behind_the_back(service, lambda d: d["sources"]["BYGGR"]["codes"].__setitem__(code, "Under behandling"), f"Ny kod {code}")
    pending = len(service.server.get("/api/v1/deadletters?state=pending", key=service.keys["municipality-admin"]).json())

    ui.sign_in(service.keys["municipality-admin"])
    ui.go("deadletters")
    ui.visible("tr[data-testid=dl-row]")
    slow_requests(browser, "/replay", 120)
    ui.css("#dl-replay-all").click()
    progress = ui.visible("[data-testid=dl-progress]")
    bar = ui.css("progress", progress)
    assert bar.get_attribute("max") == str(pending)
    assert ui.css("#dl-replay-all").get_attribute("disabled") is not None and ui.css("#dl-refresh").get_attribute("disabled") is not None
    assert ui.css(".progress-label", progress).text == f"Replaying {pending} dead letters"
    assert ui.css("[data-testid=dl-progress-spoken]").get_attribute("role") == "status"
    # The focus moved from the disabled button to Stop, so the keyboard is not stranded.
    assert browser.switch_to.active_element.get_attribute("data-testid") == "dl-progress-stop"
    ui.wait().until(lambda d: 2 <= int(bar.get_attribute("value") or 0) < pending)
    ui.screenshot("console-progress-replay.png", element=ui.css("#deadletters-title"))
    browser.switch_to.active_element.send_keys(Keys.ENTER)  # Stop
    summary = ui.text_in("[data-testid=dl-summary]", "Stopped after", timeout=20)
    done = int(summary.text.split("Stopped after ")[1].split(" ")[0])
    assert 2 <= done < pending and f"of {pending}" in summary.text
    assert progress.get_attribute("data-state") == "stopped"
    left = len(service.server.get("/api/v1/deadletters?state=pending", key=service.keys["municipality-admin"]).json())
    assert left == pending - int(summary.text.split(": ")[1].split(" accepted")[0])

    # Publishing: a busy bar names the step and shows the time; Publish cannot be pressed twice.
    start_draft_from_active(ui)
    ui.set_value(ui.css("tr[data-testid=draft-mapping][data-code=UNDER] input[data-field=status]"), "Väntar på komplettering")
    slow_requests(browser, "/admin/v1/rules/validate", 1500)
    ui.css("#publish-comment").send_keys("UNDER väntar på komplettering")
    ui.css("#draft-publish").click()
    busy = ui.visible("[data-testid=publish-progress]")
    ui.text_in("[data-testid=publish-progress-text]", "Step 1 of 2")
    # The page cannot know how long: an indeterminate bar (position -1), with the time elapsed.
    assert browser.execute_script("return arguments[0].position", ui.css("progress", busy)) == -1
    assert " s" in ui.css("[data-testid=publish-progress-text]").text
    assert ui.css("#draft-publish").get_attribute("disabled") is not None and ui.css("#draft-validate").get_attribute("disabled") is not None
    ui.screenshot("console-progress-publish.png", element=ui.css("#publish-title"))
    ui.text_in("[data-testid=publish-success]", "Published version", timeout=20)
    assert "existing case" in ui.css("[data-testid=publish-impact]").text
    assert busy.get_attribute("data-state") == "done" and ui.css("#draft-publish").get_attribute("disabled") is None
    publish_behind_the_back(service, lambda d: d["sources"]["BYGGR"]["codes"].__setitem__("UNDER", "Under behandling"), "UNDER tillbaka")

    # The audit export: busy while the server collects the rows, then saved.
    ui.css("#signout-button").click()
    ui.sign_in(service.keys["auditor"])
    ui.go("audit")
    slow_requests(browser, "/admin/v1/audit/", 1200)
    ui.css("#dl-decisions-json").click()
    export = ui.visible("[data-testid=audit-progress]")
    ui.text_in("[data-testid=audit-progress-text]", "collecting the rows")
    assert ui.css("#dl-rules-csv").get_attribute("disabled") is not None
    ui.screenshot("console-progress-audit.png", element=ui.css("#decisions-title"))
    ui.text_in("[data-testid=audit-saved]", "Saved decisions-sundsvall", timeout=20)
    assert export.get_attribute("data-state") == "done" and ui.css("#dl-rules-csv").get_attribute("disabled") is None


def test_new_views_in_a_narrow_window_and_by_keyboard(service, ui, browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 400, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    try:
        ui.sign_in(service.keys["municipality-admin"])
        ui.visible("table[data-testid=cases-by-status]")
        ui.visible("svg[data-testid=ingest-chart]")
        assert ui.no_horizontal_scroll(), "the overview fits a 400 px window"
        ui.screenshot("console-narrow-overview.png")
        ui.go("rules")
        ui.visible("svg[data-testid=mapping-chain][data-source=BYGGR]")
        assert ui.no_horizontal_scroll(), "the pictures scroll inside their own frame"
        ui.screenshot("console-narrow-chain.png", element=ui.css("#chain-title"))
        ui.screenshot("console-narrow-flow.png", element=ui.css("#moves-title"))
        assert ui.unlabelled_controls() == []
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    # The picture frames are reachable by keyboard (they scroll), and named.
    frames = ui.all(".picture-scroll")
    assert frames and all(f.get_attribute("tabindex") == "0" and f.get_attribute("aria-label") for f in frames)
    ui.go("overview")
    ui.css("#nav-overview").send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") in ("nav-rules",)
