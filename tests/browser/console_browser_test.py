#!/usr/bin/python3
"""The web console in a real browser (issue 25): Debian's chromium, driven by
python3-selenium, against a real TLS custodyd and custody-web on 127.0.0.1.

An officer signs in with her certificate's key (imported into WebCrypto by
the page), requests access to a record; an archive-head and a leader sign in
and approve it in their inboxes (decisions signed in the browser); the
officer plays the recording, seeks to 80% and the playback advances; the
register shows her viewing. On the way: the record's timeline (a row per
device, a gap explained in words), the stations page with a real
custody-ingestd's quarantine and a retry, the devices, cluster and records
search pages, the report's figures against the CLI's (viewings counted from
the register), the chain-of-custody sheet, and a session that ends: the key
kept in IndexedDB is forgotten. Every word the pages use is in both
languages (checked in i18n.js), and dates follow the chosen language.

Usage: console_browser_test.py BUILD_DIR [SCREENSHOT_DIR]
Exits 77 (skipped) when chromium, chromedriver or selenium are missing.
"""
import json
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import wave

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import (ElementClickInterceptedException,
                                            StaleElementReferenceException)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("skipped: python3-selenium is not installed")
    sys.exit(77)
if not shutil.which("chromium") or not shutil.which("chromedriver"):
    print("skipped: chromium and chromium-driver are not installed")
    sys.exit(77)

BUILD = os.path.abspath(sys.argv[1])
SHOTS = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("CUSTODY_SCREENSHOTS", "")
TMP = tempfile.mkdtemp(prefix="custody-browser-", dir=os.environ.get("TEST_TMPDIR", "/var/tmp"))
PROCS = []


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))}: {r.returncode}\n{r.stderr}")
    return r.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(user, *args):
    return run(f"{BUILD}/custody", "--server", NODE, "--tls", f"{TMP}/{user}", *args)


def tone_wav(path, seconds=20, rate=8000):
    """A 440 Hz tone: an audio recording the browser plays and seeks in."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(seconds * rate)))


def start_cluster():
    global NODE
    ca = f"{TMP}/ca"
    run(f"{BUILD}/custody", "ca", "init", ca)
    run(f"{BUILD}/custody", "ca", "issue", "--ca", ca, "--node", "n1", "--host", "127.0.0.1",
        "-o", f"{TMP}/n1")
    for name, role, agency in [("olga", "officer", "A"), ("hank", "archive-head", ""),
                               ("lena", "leader", "A"), ("aud", "auditor", ""),
                               ("arch", "archivist", "A"), ("station", "ingest", "A")]:
        extra = ["--agency", agency] if agency else []
        run(f"{BUILD}/custody", "ca", "issue", "--ca", ca, "--user", name, "--role", role,
            *extra, "-o", f"{TMP}/{name}")
    run(f"{BUILD}/custody", "ca", "issue", "--ca", ca, "--console", "front", "--host",
        "127.0.0.1", "-o", f"{TMP}/front")
    NODE = f"127.0.0.1:{free_port()}"
    PROCS.append(subprocess.Popen(
        [f"{BUILD}/custodyd", "--data", f"{TMP}/data", "--listen", NODE, "--tls", f"{TMP}/n1",
         "--unsafe-testing-retention", "3s"],  # so that an archived record can be purged
        stdout=open(f"{TMP}/node.log", "w"), stderr=subprocess.STDOUT))
    for _ in range(100):
        if subprocess.run([f"{BUILD}/custody", "--server", NODE, "--tls", f"{TMP}/olga",
                           "status"], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    PROCS.append(subprocess.Popen(
        [f"{BUILD}/custody-web", "--listen", "127.0.0.1:0", "--server", NODE, "--tls",
         f"{TMP}/front", "--port-file", f"{TMP}/web.port"],
        stdout=open(f"{TMP}/web.log", "w"), stderr=subprocess.STDOUT))
    for _ in range(100):
        if os.path.exists(f"{TMP}/web.port") and open(f"{TMP}/web.port").read():
            return f"https://127.0.0.1:{open(f'{TMP}/web.port').read()}"
        time.sleep(0.1)
    raise RuntimeError("custody-web did not start:\n" + open(f"{TMP}/web.log").read())


def start_station():
    """A docking station (custody-ingestd) that reports every second: one
    file with a good sidecar goes in, one with a bad sidecar goes to its
    quarantine. Returns once both have gone their way."""
    dock = f"{TMP}/dock"
    os.makedirs(f"{dock}/D3")
    for name, sidecar in [
            ("good.mp4", {"officers": ["o1"], "matter": 3, "target": "dock-test",
                          "stage": "interview", "start": "2026-12-01T10:00:00Z",
                          "end": "2026-12-01T10:00:10Z"}),
            ("bad.mp4", {"officers": ["o1"], "matter": 99, "start": "noon"})]:
        with open(f"{dock}/D3/{name}.json", "w") as f:
            json.dump(sidecar, f)
        with open(f"{dock}/D3/{name}", "wb") as f:
            f.write(os.urandom(20000))
    PROCS.append(subprocess.Popen(
        [f"{BUILD}/custody-ingestd", "--watch", dock, "--server", NODE, "--tls",
         f"{TMP}/station", "--station", "dock-1", "--settle", "0.5", "--poll", "0.5",
         "--report-interval", "1"],
        stdout=open(f"{TMP}/ingestd.log", "w"), stderr=subprocess.STDOUT))
    for _ in range(300):
        if (os.path.exists(f"{dock}/done/D3/good.mp4")
                and os.path.exists(f"{dock}/quarantine/D3/bad.mp4")):
            return
        time.sleep(0.1)
    raise RuntimeError("custody-ingestd did not take its files:\n"
                       + open(f"{TMP}/ingestd.log").read()[-3000:])


def check_words():
    """Every word app.js asks i18n.js for is in both languages: a page never
    shows a raw key."""
    assets = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "client", "web", "assets")
    i18n = open(os.path.join(assets, "i18n.js")).read()
    en, zh = i18n.split("\n  zh: {")
    has = [set(re.findall(r"(?:'([\w-]+)'|\b(\w+)): '", x)) for x in (en, zh)]
    has = [{a or b for a, b in x} for x in has]
    used = set()
    for name in ["app.js", "api.js", "sign.js"]:
        text = open(os.path.join(assets, name)).read()
        used |= set(re.findall(r"\bt\('(\w+)'\)", text))
        used |= set(re.findall(r"\blink\('[^']*', '(\w+)'\)", text))
        used |= set(re.findall(r"\bfield\('\w+', '(\w+)'", text))
    app = open(os.path.join(assets, "app.js")).read()
    figures = re.search(r"const FIGURES = \[([^\]]*)\]", app).group(1)
    used |= {"fig_" + k for k in re.findall(r"'(\w+)'", figures)}
    for lang, words in zip(["en", "zh"], has):
        missing = sorted(used - words)
        assert not missing, f"i18n.js lacks in {lang}: {missing}"


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium")
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900",
              f"--user-data-dir={TMP}/chrome"]:
        o.add_argument(a)
    o.set_capability("acceptInsecureCerts", True)  # the cluster CA is not in its store
    # Times are shown in the browser's zone: UTC, so that the checks know it.
    service = Service(shutil.which("chromedriver"), env={**os.environ, "TZ": "UTC"})
    return webdriver.Chrome(service=service, options=o)


def shot(d, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        d.save_screenshot(os.path.join(SHOTS, name + ".png"))


def wait(d):
    """Waits up to 20 s; a page that re-renders under a check (a stale
    element) is checked again, not a failure."""
    return WebDriverWait(d, 20, ignored_exceptions=(StaleElementReferenceException,))


def click(d, by, selector):
    """Clicks once the element is clickable; a page that re-renders under the
    click (a stale or covered element) is waited for and clicked again."""
    for attempt in range(5):
        try:
            wait(d).until(EC.element_to_be_clickable((by, selector))).click()
            return
        except (StaleElementReferenceException, ElementClickInterceptedException):
            time.sleep(0.3)
    raise RuntimeError(f"cannot click {selector}")


def sign_in(d, url, user):
    d.get(url + "/#/home")
    w = wait(d)
    for attempt in range(5):  # the page may render the form again under us
        try:
            w.until(EC.presence_of_element_located((By.ID, "cert-file")))
            d.find_element(By.ID, "cert-file").send_keys(f"{TMP}/{user}/cert.pem")
            d.find_element(By.ID, "key-file").send_keys(f"{TMP}/{user}/key.pem")
            d.find_element(By.ID, "signin-cert-button").click()
            break
        except StaleElementReferenceException:
            time.sleep(0.3)
    w.until(EC.text_to_be_present_in_element((By.ID, "whoami"), f"user:{user}"))


def sign_out(d):
    click(d, By.ID, "signout")
    wait(d).until(EC.presence_of_element_located((By.ID, "cert-file")))


def describe(d):
    """Prints what the page showed when a step failed, for the CI log."""
    try:
        print(f"--- page at failure: {d.current_url}", file=sys.stderr)
        print(d.find_element(By.TAG_NAME, "body").text[:3000], file=sys.stderr)
        print(f"--- browser log: {d.get_log('browser')}", file=sys.stderr)
        print("--- custody-web log (tail):", file=sys.stderr)
        print(open(f"{TMP}/web.log").read()[-3000:], file=sys.stderr)
    except Exception as e:  # the description must not hide the failure
        print(f"(cannot describe the page: {e})", file=sys.stderr)


def error_text(d):
    e = d.find_element(By.ID, "error")
    return "" if e.get_attribute("hidden") is not None else e.text


def main_text(d):
    return d.find_element(By.TAG_NAME, "main").text


# What pages showed as failures (a node's or the console's, not a refusal):
# the test goes on, so that one run checks every page, and fails at the end.
PROBLEMS = []


def no_problems(d, where):
    """Notes the failures the page shows in place of what it could not load."""
    for p in d.find_elements(By.CSS_SELECTOR, "main .problem"):
        PROBLEMS.append(f"{where}: {p.text}")
    if error_text(d):
        PROBLEMS.append(f"{where}: {error_text(d)}")


def page_of(hash_):
    """The selector of main once it shows the page of `hash_` (app.js sets
    main's data-page), so that a check never reads the page before."""
    return f"main[data-page={hash_[2:].split('?')[0].split('/')[0] or 'home'}]"


def page_renders(d, url, hash_, ready):
    """Opens a page and waits for `ready` (a CSS selector within it); notes
    any problem it shows."""
    d.get(f"{url}/{hash_}")
    here = page_of(hash_)
    wait(d).until(lambda _: d.find_elements(By.CSS_SELECTOR, f"{here} {ready}")
                  or d.find_elements(By.CSS_SELECTOR, f"{here} .problem") or error_text(d))
    no_problems(d, hash_)


def until_shown(d, url, hash_, selector, seconds=20):
    """Reloads a page until `selector` shows (what a station reports every
    second)."""
    deadline = time.time() + seconds
    d.get(f"{url}/{hash_}")
    while True:
        try:
            WebDriverWait(d, 2).until(EC.presence_of_element_located(
                (By.CSS_SELECTOR, f"{page_of(hash_)} {selector}")))
            return
        except Exception:
            if time.time() > deadline:
                raise AssertionError(f"{hash_}: no {selector}")
        d.refresh()


KEY_KEPT = """
  const done = arguments[arguments.length - 1];
  const r = indexedDB.open('custody-keys', 1);
  r.onupgradeneeded = () => r.result.createObjectStore('keys');
  r.onerror = () => done('error ' + r.error);
  r.onsuccess = () => {
    const g = r.result.transaction('keys').objectStore('keys').get('me');
    g.onsuccess = () => done(g.result ? 'kept' : 'gone');
    g.onerror = () => done('error ' + g.error);
  };
"""


def viewings_of(events, agency):
    """The report's viewings: object.read events naming the agency, one per
    playback (as the report page counts them)."""
    seen = set()
    for e in events:
        d = e.get("details", {})
        if d.get("agency") != agency:
            continue
        seen.add((e["actor"], e["subject"], d["playback"]) if d.get("playback")
                 else (e["node"], e["seq"]))
    return len(seen)


def main():
    check_words()
    url = start_cluster()
    audio = f"{TMP}/interview.wav"
    tone_wav(audio)
    obj = cli("olga", "put", audio, "--meta", "device=D1", "--meta", "start=2026-12-01T09:00:00Z",
              "--meta", "end=2026-12-01T09:00:20Z").strip()
    rec = json.loads(cli("olga", "record", "create", "--agency", "A", "--matter", "3",
                         "--target", "shop-17", "--stage", "interview", "--officer", "o1",
                         "--device", "D1", "--start", "2026-12-01T09:00:00Z", "--end",
                         "2026-12-01T09:00:20Z", "--json"))["id"]
    cli("olga", "record", "attach", rec, obj, "--kind", "audio")
    # A second device whose recording stopped for 6 s: a gap on its own row
    # of the timeline, explained in writing.
    for i, (start, end) in enumerate([("09:00:00", "09:00:06"), ("09:00:12", "09:00:20")]):
        with open(f"{TMP}/d2-{i}.mp4", "wb") as f:
            f.write(os.urandom(30000))
        part = cli("olga", "put", f"{TMP}/d2-{i}.mp4", "--meta", "device=D2", "--meta",
                   f"start=2026-12-01T{start}Z", "--meta", f"end=2026-12-01T{end}Z").strip()
        cli("olga", "record", "attach", rec, part, "--kind", "video")
    cli("olga", "record", "note", rec, "--gap", "1", "--reason", "battery swap")
    cli("arch", "device", "add", "D1", "--agency", "A", "--model", "body-cam")
    cli("arch", "device", "checkout", "D1", "--officer", "o1", "--battery", "OK",
        "--storage", "OK", "--clock", "OK")
    # A second, archived record: its retention (3 s here) ends during the test.
    with open(f"{TMP}/old.wav", "wb") as f:
        f.write(os.urandom(50000))
    old_obj = cli("olga", "put", f"{TMP}/old.wav", "--meta", "device=D1", "--meta",
                  "start=2026-11-01T09:00:00Z", "--meta", "end=2026-11-01T09:10:00Z").strip()
    old = json.loads(cli("olga", "record", "create", "--agency", "A", "--matter", "3",
                         "--target", "old-case", "--stage", "interview", "--officer", "o1",
                         "--device", "D1", "--start", "2026-11-01T09:00:00Z", "--end",
                         "2026-11-01T09:10:00Z", "--json"))["id"]
    cli("olga", "record", "attach", old, old_obj, "--kind", "audio")
    cli("arch", "record", "archive", old)
    start_station()
    d = browser()
    try:
        d.get(url + "/#/home")
        wait(d).until(EC.presence_of_element_located((By.ID, "cert-file")))
        shot(d, "signin")
        sign_in(d, url, "olga")
        # Home: every panel loads (the station's quarantine among them).
        until_shown(d, url, "#/home", "#home-stations li")
        no_problems(d, "#/home")
        shot(d, "home")
        # Stations: the quarantined file with its reason and a Retry button.
        until_shown(d, url, "#/stations", "#station-dock-1 button.retry")
        station = d.find_element(By.ID, "station-dock-1").text
        assert "bad.mp4" in station and "good.mp4" in station, station
        shot(d, "stations")
        click(d, By.CSS_SELECTOR, "#station-dock-1 button.retry")
        wait(d).until(lambda _: d.find_element(By.ID, "note").text or error_text(d))
        assert not error_text(d), f"retry: {error_text(d)}"
        page_renders(d, url, "#/devices", "table td")
        assert "D1" in main_text(d) and "o1" in main_text(d), main_text(d)
        shot(d, "devices")
        page_renders(d, url, "#/cluster", "table td")
        shot(d, "cluster")
        page_renders(d, url, "#/records?text=shop", f"a[href='#/record/{rec}']")
        shot(d, "records")
        # The record: a timeline row per device, the gap on D2's row and its
        # explanation in words; dates in the chosen language's format.
        d.get(f"{url}/#/record/{rec}")
        wait(d).until(EC.presence_of_element_located((By.ID, "access-reason")))
        rows = d.find_elements(By.CSS_SELECTOR, "#timeline .timeline-row[data-device]")
        assert [r.get_attribute("data-device") for r in rows] == ["D1", "D2"], \
            [r.get_attribute("data-device") for r in rows]
        assert not rows[0].find_elements(By.CSS_SELECTOR, ".gap"), rows[0].text
        assert rows[1].find_elements(By.CSS_SELECTOR, ".timeline .gap.explained")
        assert "battery swap" in rows[1].find_element(By.CSS_SELECTOR, ".gap-notes").text
        assert "2026/12/01 09:00:00" in main_text(d), "zh-CN dates"
        shot(d, "record")
        for lang in ["en", "zh"]:  # English, then back to Chinese: the page is made again
            before = d.find_element(By.ID, "access-reason")
            click(d, By.ID, "lang")
            wait(d).until(EC.staleness_of(before))
            wait(d).until(EC.presence_of_element_located((By.ID, "access-reason")))
            if lang == "en":
                assert "01/12/2026, 09:00:00" in main_text(d), "en-GB dates"
                assert "Gap 1" in d.find_element(By.ID, "timeline").text
        d.find_element(By.ID, "access-reason").send_keys("hearing 2026-12-10")
        click(d, By.CSS_SELECTOR, "#request-access button")
        wait(d).until(lambda _: d.find_element(By.ID, "note").get_attribute("data-state")
                      or error_text(d))
        assert not error_text(d), error_text(d)
        assert d.find_element(By.ID, "note").get_attribute("data-state") == "pending"
        sign_out(d)
        for approver in ["hank", "lena"]:
            sign_in(d, url, approver)
            d.get(f"{url}/#/approvals")
            wait(d).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button.approve")))
            shot(d, f"approvals-{approver}")
            click(d, By.CSS_SELECTOR, "button.approve")
            wait(d).until(
                lambda _: not d.find_elements(By.CSS_SELECTOR, "button.approve") or error_text(d))
            assert not error_text(d), f"{approver}'s approval: {error_text(d)}"
            sign_out(d)
        # A legal hold, set and released on the record page, each a decision
        # signed in the browser by an archive-head.
        sign_in(d, url, "hank")
        d.get(f"{url}/#/record/{rec}")
        wait(d).until(EC.presence_of_element_located((By.ID, "hold-reason")))
        d.find_element(By.ID, "hold-reason").send_keys("court order")
        d.find_element(By.ID, "hold-authority").send_keys("Court 2, case 7")
        click(d, By.CSS_SELECTOR, "#set-hold button")
        wait(d).until(
            lambda _: d.find_elements(By.CSS_SELECTOR, "button.release-hold") or error_text(d))
        assert not error_text(d), f"hold: {error_text(d)}"
        assert "Court 2, case 7" in d.find_element(By.TAG_NAME, "main").text
        shot(d, "record-hold")
        d.find_element(By.CSS_SELECTOR, "input[id^=release-reason-]").send_keys("order lifted")
        click(d, By.CSS_SELECTOR, "button.release-hold")
        wait(d).until(
            lambda _: not d.find_elements(By.CSS_SELECTOR, "button.release-hold") or error_text(d))
        assert not error_text(d), f"release: {error_text(d)}"
        sign_out(d)
        sign_in(d, url, "olga")
        d.get(f"{url}/#/play/{obj}")
        wait(d).until(EC.presence_of_element_located((By.ID, "player")))
        ok = d.execute_async_script("""
          const done = arguments[arguments.length - 1];
          const v = document.getElementById('player');
          v.muted = true;
          const fail = () => done('error ' + (v.error && v.error.code));
          v.addEventListener('error', fail);
          const seek = () => {
            const target = v.duration * 0.8;
            v.addEventListener('seeked', () => {
              const after = v.currentTime;
              v.play().then(() => setTimeout(() => done(v.currentTime > after ?
                  'advanced ' + after + ' -> ' + v.currentTime : 'stuck at ' + v.currentTime), 1500),
                  (e) => done('play refused: ' + e));
            }, { once: true });
            v.currentTime = target;
          };
          if (v.readyState >= 1) seek(); else v.addEventListener('loadedmetadata', seek, { once: true });
          setTimeout(() => done('timeout, readyState ' + v.readyState), 20000);
        """)
        shot(d, "playback")
        assert ok.startswith("advanced"), f"playback: {ok}; {error_text(d)}"
        assert "user:olga" in d.find_element(By.ID, "watermark").text
        sign_out(d)
        sign_in(d, url, "aud")  # the register is an auditor's
        d.get(f"{url}/#/register?action=object.read")
        # The register's own table (the home page's may still be showing).
        wait(d).until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, "main[data-page=register] #register-filter ~ table")))
        register = d.find_element(By.CSS_SELECTOR, "#register-filter ~ table").text
        shot(d, "register")
        no_problems(d, "#/register")
        assert obj in register and "user:olga" in register, register
        assert d.find_elements(By.CSS_SELECTOR, "main table span.proof-proven"), \
            "the viewing is proven under the node's signed checkpoint"
        # The chain-of-custody sheet lists the record's hashes, and the
        # record's history (each event's proof, when the console sends it).
        d.get(f"{url}/#/sheet/{rec}")
        wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.hash")))
        shot(d, "sheet")
        no_problems(d, "#/sheet")
        assert obj in d.find_element(By.CSS_SELECTOR, "p.hash").text
        history = d.find_element(By.ID, "record-history")
        assert not history.find_elements(By.CSS_SELECTOR, ".problem"), history.text
        sent = d.execute_async_script("""
          const done = arguments[arguments.length - 1];
          fetch(arguments[0], { credentials: 'same-origin' }).then((r) => r.json())
            .then((s) => done(s.record_history), (e) => done({ error: String(e) }));
        """, f"/api/records/{rec}/sheet")
        events = sent.get("events", [])
        assert events, sent
        shown = history.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert shown, history.text
        if all(e.get("proof") for e in events):  # a console that proves them
            for row in shown:
                assert row.find_elements(By.CSS_SELECTOR, "[data-proof]"), row.text
        # The report's figures are the CLI's.
        d.get(f"{url}/#/report?agency=A&from=2026-11-01&to=2027-01-01")
        wait(d).until(EC.presence_of_element_located((By.ID, "report-chart")))
        drawn = """const c = document.getElementById('report-chart');
          const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < px.length; i += 4) if (px[i]) return true;
          return false;"""
        try:
            wait(d).until(lambda _: d.execute_script(drawn))
        except Exception:
            raise AssertionError(f"the chart stays blank: {d.get_log('browser')}")
        shot(d, "report")
        shown = {e.get_attribute("data-figure"): e.text
                 for e in d.find_elements(By.CSS_SELECTOR, "main [data-figure]")}
        want = json.loads(cli("aud", "report", "--agency", "A", "--from", "2026-11-01",
                              "--to", "2027-01-01", "--json"))
        keys = ["records", "archived", "overdue", "access_requests", "unexplained_gaps"]
        if "explained_gaps" in want:  # a node that counts them
            keys.append("explained_gaps")
        for k in keys:
            assert int(shown[k]) == int(want.get(k, 0)), f"report {k}: {shown[k]} vs {want.get(k)}"
        assert int(shown["records"]) >= 1, shown
        reads = json.loads(cli("aud", "audit", "log", "--action", "object.read", "--from",
                               "2026-11-01", "--to", "2027-01-01", "--json"))["events"]
        assert int(shown["viewings"]) == viewings_of(reads, "A"), (shown, reads)
        if any("agency" in e.get("details", {}) for e in reads):  # a node that names it
            assert int(shown["viewings"]) >= 1, shown
        assert "fig_" not in main_text(d), main_text(d)
        no_problems(d, "#/report")
        # A leader revokes the grant on the record page (signed in the browser).
        sign_out(d)
        sign_in(d, url, "lena")
        d.get(f"{url}/#/record/{rec}")
        wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "button.revoke")))
        d.find_element(By.CSS_SELECTOR, "input[id^=revoke-reason-]").send_keys("hearing over")
        click(d, By.CSS_SELECTOR, "button.revoke")
        wait(d).until(
            lambda _: d.find_elements(By.CSS_SELECTOR, "#record-grants [data-state=revoked]")
            or error_text(d))
        assert not error_text(d), f"revoke: {error_text(d)}"
        state = json.loads(cli("olga", "access", "list", "--record", rec, "--json"))
        assert state["grants"] and state["grants"][0]["state"] == "revoked", state
        # Article 19: an archived record whose retention ended is purged: an
        # archivist requests it, an archive-head approves (signed in the
        # browser) and executes it.
        sign_out(d)
        sign_in(d, url, "arch")
        d.get(f"{url}/#/purges")
        wait(d).until(EC.presence_of_element_located((By.ID, "purge-reason")))
        d.find_element(By.ID, "purge-reason").send_keys("retention ended")
        click(d, By.CSS_SELECTOR, "#request-purge button")
        wait(d).until(
            lambda _: d.find_elements(By.CSS_SELECTOR, "main [data-state=pending]") or error_text(d))
        assert not error_text(d), f"purge request: {error_text(d)}"
        sign_out(d)
        sign_in(d, url, "hank")
        d.get(f"{url}/#/purges")
        click(d, By.CSS_SELECTOR, "button.approve-purge")
        wait(d).until(
            lambda _: d.find_elements(By.CSS_SELECTOR, "button.execute-purge") or error_text(d))
        assert not error_text(d), f"purge approval: {error_text(d)}"
        click(d, By.CSS_SELECTOR, "button.execute-purge")
        wait(d).until(
            lambda _: d.find_elements(By.CSS_SELECTOR, "main [data-state=executed]")
            or error_text(d))
        assert not error_text(d), f"purge: {error_text(d)}"
        shot(d, "purges")
        shown = json.loads(cli("aud", "record", "show", old, "--json"))
        assert shown["retention"]["purged"] is True, shown["retention"]
        # The session ends (its cookie is gone): the next call answers 401,
        # and the page forgets the key it kept, as on sign-out.
        assert d.execute_async_script(KEY_KEPT) == "kept"
        d.delete_cookie("custody_session")
        d.execute_script("location.hash = '#/approvals'")  # no reload: the page's own call
        wait(d).until(EC.presence_of_element_located((By.ID, "cert-file")))
        assert d.execute_async_script(KEY_KEPT) == "gone", "the key outlived the session"
        assert not PROBLEMS, "pages showed problems:\n" + "\n".join(PROBLEMS)
        print(f"ok: signed in, requested, approved twice, played ({ok}), registered, "
              "sheet and report checked, revoked, purged, stations/devices/cluster/records "
              "shown, the key forgotten when the session ended")
    except Exception:
        describe(d)
        raise
    finally:
        d.quit()


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in PROCS:
            p.kill()
            p.wait()
        if os.environ.get("CUSTODY_KEEP_TMP") is None:
            shutil.rmtree(TMP, ignore_errors=True)
