#!/usr/bin/python3
"""The web console in a real browser (issue 25): Debian's chromium, driven by
python3-selenium, against a real TLS custodyd and custody-web on 127.0.0.1.

An officer signs in with her certificate's key (imported into WebCrypto by
the page), requests access to a record; an archive-head and a leader sign in
and approve it in their inboxes (decisions signed in the browser); the
officer plays the recording, seeks to 80% and the playback advances; the
register shows her viewing.

Usage: console_browser_test.py BUILD_DIR [SCREENSHOT_DIR]
Exits 77 (skipped) when chromium, chromedriver or selenium are missing.
"""
import json
import math
import os
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
                               ("arch", "archivist", "A")]:
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


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = shutil.which("chromium")
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
              "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900",
              f"--user-data-dir={TMP}/chrome"]:
        o.add_argument(a)
    o.set_capability("acceptInsecureCerts", True)  # the cluster CA is not in its store
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=o)


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


def main():
    url = start_cluster()
    audio = f"{TMP}/interview.wav"
    tone_wav(audio)
    obj = cli("olga", "put", audio, "--meta", "device=D1").strip()
    rec = json.loads(cli("olga", "record", "create", "--agency", "A", "--matter", "3",
                         "--target", "shop-17", "--stage", "interview", "--officer", "o1",
                         "--device", "D1", "--start", "2026-12-01T09:00:00Z", "--end",
                         "2026-12-01T09:00:20Z", "--json"))["id"]
    cli("olga", "record", "attach", rec, obj, "--kind", "audio")
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
    d = browser()
    try:
        sign_in(d, url, "olga")
        shot(d, "home")
        d.get(f"{url}/#/record/{rec}")
        wait(d).until(EC.presence_of_element_located((By.ID, "access-reason")))
        shot(d, "record")
        d.find_element(By.ID, "access-reason").send_keys("hearing 2026-12-10")
        click(d, By.CSS_SELECTOR, "#request-access button")
        wait(d).until(
            lambda _: "pending" in d.find_element(By.ID, "note").text or error_text(d))
        assert not error_text(d), error_text(d)
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
        wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "main table")))
        register = d.find_element(By.CSS_SELECTOR, "main table").text
        shot(d, "register")
        assert obj in register and "user:olga" in register, register
        assert d.find_elements(By.CSS_SELECTOR, "main table span.proof-proven"), \
            "the viewing is proven under the node's signed checkpoint"
        # The chain-of-custody sheet lists the record's hashes.
        d.get(f"{url}/#/sheet/{rec}")
        wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "p.hash")))
        shot(d, "sheet")
        assert obj in d.find_element(By.CSS_SELECTOR, "p.hash").text
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
        cells = [td.text for td in d.find_elements(By.CSS_SELECTOR, "main table td")]
        shown = dict(zip(cells[0::2], cells[1::2]))
        want = json.loads(cli("aud", "report", "--agency", "A", "--from", "2026-11-01",
                              "--to", "2027-01-01", "--json"))
        for k in ["records", "archived", "overdue", "access_requests", "unexplained_gaps"]:
            assert int(shown[k]) == int(want.get(k, 0)), f"report {k}: {shown[k]} vs {want.get(k)}"
        assert int(shown["records"]) >= 1, shown
        # A leader revokes the grant on the record page (signed in the browser).
        sign_out(d)
        sign_in(d, url, "lena")
        d.get(f"{url}/#/record/{rec}")
        wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "button.revoke")))
        d.find_element(By.CSS_SELECTOR, "input[id^=revoke-reason-]").send_keys("hearing over")
        click(d, By.CSS_SELECTOR, "button.revoke")
        wait(d).until(
            lambda _: "revoked" in d.find_element(By.ID, "record-grants").text or error_text(d))
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
            lambda _: "pending" in d.find_element(By.TAG_NAME, "main").text or error_text(d))
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
            lambda _: "executed" in d.find_element(By.TAG_NAME, "main").text or error_text(d))
        assert not error_text(d), f"purge: {error_text(d)}"
        shot(d, "purges")
        shown = json.loads(cli("aud", "record", "show", old, "--json"))
        assert shown["retention"]["purged"] is True, shown["retention"]
        print(f"ok: signed in, requested, approved twice, played ({ok}), registered, "
              "sheet and report checked, revoked, purged")
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
