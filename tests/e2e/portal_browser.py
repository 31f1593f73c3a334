"""The portal's browser scenarios (run by test_portal_browser.sh), in Debian's headless Chromium.

Each user has a browser of their own: a temporary HOME whose NSS database trusts the gateway's CA
and holds the user's .p12 from `serambi profile export-p12`, and a profile setting that selects
the certificate without a dialog (the content-setting form of AutoSelectCertificateForUrls)."""
import base64
import hashlib
import http.server
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

URL = os.environ["PORTAL_URL"]
WORK = pathlib.Path(os.environ["PORTAL_WORK"])
CA = os.environ["PORTAL_CA"]
PASSWORD = os.environ["PORTAL_PASSWORD"]
SERAMBI = os.environ["SERAMBI"]
SHOTS = pathlib.Path(os.environ["PORTAL_SCREENSHOTS"])
SHOTS.mkdir(parents=True, exist_ok=True)

passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   - {what}")
    else:
        failed += 1
        print(f"FAIL - {what} {detail}")


def cli(*args):
    return subprocess.run([SERAMBI, *args], capture_output=True, text=True, check=False)


def browser(who):
    home = pathlib.Path(tempfile.mkdtemp(prefix=f"home-{who}-", dir=WORK))
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("certutil", "-N", "-d", f"sql:{db}", "--empty-password")
    run("certutil", "-A", "-d", f"sql:{db}", "-n", "Serambi CA", "-t", "C,,", "-i", CA)
    run("pk12util", "-i", str(WORK / f"{who}.p12"), "-d", f"sql:{db}", "-W", PASSWORD)
    downloads = home / "Unduhan"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-extensions", "--window-size=1280,1000", f"--user-data-dir={home}/profile"]:
        options.add_argument(a)
    options.add_experimental_option("prefs", {
        "profile.content_settings.exceptions.auto_select_certificate": {
            "https://127.0.0.1:*,*": {"setting": {"filters": [{}]}}},
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
    })
    saved = os.environ.get("HOME")
    os.environ["HOME"] = str(home)  # NSS opens $HOME/.pki/nssdb
    try:
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    finally:
        os.environ["HOME"] = saved
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    return driver


def wait(driver, condition, seconds=20):
    return WebDriverWait(driver, seconds).until(condition)


def text_of(driver, css):
    return driver.find_element(By.CSS_SELECTOR, css).text


def no_alert(driver):
    try:
        driver.switch_to.alert.dismiss()
        return False
    except NoAlertPresentException:
        return True


def untranslated(driver):
    return "⟦" in driver.find_element(By.TAG_NAME, "body").text


def shot(driver, name):
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def open_portal(driver, page=""):
    target = f"{URL}/#/{page}"
    if driver.current_url == target:
        driver.refresh()  # the same address again would not reload the page
    else:
        driver.get(target)
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#nav a") or d.find_elements(By.ID, "no-certificate"))


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


# ---- Producer: upload two files and a hostile one, see the receipts
files = {
    "Laporan gizi – Ternate.csv": "kecamatan,balita,stunting\nTernate Utara,812,97\n",
    "rekap & catatan.csv": "bulan,jumlah\nNovember,42\n",
    "<img src=x onerror=alert(1)>.csv": "x\n",
}
for name, content in files.items():
    (WORK / name).write_text(content, encoding="utf-8")

producer = browser("dinkes-malut")
try:
    open_portal(producer)
    check("the producer's portal says who is signed in", text_of(producer, "#me-id") == "dinkes-malut")
    check("in Bahasa Indonesia by default", text_of(producer, "#nav-upload") == "Unggah")
    check("no certificate warning a year before the end", not producer.find_elements(By.ID, "cert-warning"))
    shot(producer, "beranda")
    open_portal(producer, "upload")
    select = wait(producer, lambda d: d.find_element(By.ID, "upload-dataset"))
    options = [o.text for o in Select(select).options]
    check("a dataset title with <script> is shown as text",
          any('<script>alert("judul")</script> Status gizi' in o for o in options), str(options))
    check("and adds no script to the page", producer.execute_script("return document.scripts.length") == 1)
    Select(select).select_by_value("dinkes-malut/sandi")
    check("a sangat-rahasia dataset says to use serambi push --to",
          "serambi push --to" in text_of(producer, "#sangat-rahasia-note"))
    Select(select).select_by_value("dinkes-malut/gizi")
    producer.find_element(By.ID, "upload-input").send_keys("\n".join(str(WORK / n) for n in files))
    check("the three files are queued", len(producer.find_elements(By.CSS_SELECTOR, "#upload-files .file-row")) == 3)
    producer.find_element(By.ID, "upload-send").click()
    wait(producer, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".file-row .state")) == 3 and all(
        s.text.startswith(("terkirim", "gagal")) for s in d.find_elements(By.CSS_SELECTOR, ".file-row .state")), 60)
    receipts = producer.find_elements(By.CSS_SELECTOR, ".receipt")
    check("two receipts are shown", len(receipts) == 2, str(len(receipts)))
    by_name = {}
    for r in receipts:
        heading = r.find_element(By.TAG_NAME, "h2").text
        for name in files:
            if heading.endswith(name):
                by_name[name] = (r.get_attribute("data-package"), r.find_element(By.CSS_SELECTOR, ".receipt-sha256").text)
    for name in ["Laporan gizi – Ternate.csv", "rekap & catatan.csv"]:
        got = by_name.get(name)
        check(f"the receipt of {name} shows its SHA-256", got is not None and got[1] == sha256(WORK / name), str(got))
    errors = [s.text for s in producer.find_elements(By.CSS_SELECTOR, ".file-row .error")]
    check("the hostile name is refused, and the refusal shown in Indonesian and as text",
          len(errors) == 1 and errors[0].startswith("Permintaan ditolak") and "Serambi-Filename" in errors[0], str(errors))
    check("no script ran from a file name", no_alert(producer))
    rows = producer.find_elements(By.CSS_SELECTOR, ".file-row .name")
    check("the hostile name is shown literally", any("<img src=x onerror=alert(1)>.csv" in r.text for r in rows))
    log = (WORK / "gateway.log").read_text(errors="replace")
    check("the portal sends files as resumable uploads (tus), as the CLI does",
          "dinkes-malut POST /v1/uploads 201" in log and "dinkes-malut PATCH /v1/uploads/" in log)
    check("and forgets an upload's address once it is a package",
          producer.execute_script("return Object.keys(localStorage).filter(k => k.startsWith('serambi.upload')).length") == 0)
    check("the page says how a cut upload continues", "dilanjutkan" in text_of(producer, "#upload-resume-note"))
    shot(producer, "unggah")
    open_portal(producer, "mine")
    wait(producer, lambda d: d.find_elements(By.CSS_SELECTOR, "#packages tbody tr"))
    check("'Paket saya' lists both packages", len(producer.find_elements(By.CSS_SELECTOR, "#packages tbody tr")) == 2)
    producer.find_element(By.ID, "filter-name").send_keys("TERNATE")
    try:
        wait(producer, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#packages tbody tr")) == 1, 10)
        check("and filters by name, whatever the case", "Ternate" in text_of(producer, "#packages tbody"))
    except TimeoutException:
        check("and filters by name, whatever the case", False, text_of(producer, "#packages"))
    shot(producer, "paket-saya")
finally:
    producer.quit()

# ---- The partner finds the rahasia package, asks for its release; a custodian approves it in
# the inbox; the partner downloads it
package, digest = by_name.get("Laporan gizi – Ternate.csv", ("", ""))
purpose = '<script>alert(2)</script> kajian inflasi pangan'
partner = browser("bi-malut")
custodian = browser("walidata")
try:
    open_portal(partner, "packages")
    wait(partner, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-package="{package}"]'))
    row = partner.find_element(By.CSS_SELECTOR, f'tr[data-package="{package}"]')
    check("the partner sees the rahasia package before release, by name", "Laporan gizi – Ternate.csv" in row.text)
    check("with no download link yet", not row.find_elements(By.CSS_SELECTOR, "a.download"))
    check("the partner has no upload page", not partner.find_elements(By.ID, "nav-upload"))
    row.find_element(By.CSS_SELECTOR, ".request-purpose").send_keys(purpose)
    row.find_element(By.CSS_SELECTOR, ".request-release").click()
    wait(partner, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-package="{package}"] .requested'))
    check("the request is sent", True)
    shot(partner, "paket-mitra-minta-rilis")

    open_portal(custodian, "requests")
    card = wait(custodian, lambda d: d.find_element(By.CSS_SELECTOR, ".request"))
    check("the custodian's inbox shows the request with its purpose as text",
          card.find_element(By.CSS_SELECTOR, ".request-purpose").text == purpose)
    check("naming the partner", card.find_element(By.CSS_SELECTOR, ".request-partner").text == "bi-malut")
    check("no script ran from the purpose", no_alert(custodian))
    shot(custodian, "permintaan-rilis")
    card.find_element(By.CSS_SELECTOR, ".approve-cap").send_keys("2")
    card.find_element(By.CSS_SELECTOR, "button.approve").click()
    wait(custodian, lambda d: d.find_elements(By.ID, "requests-empty"))
    check("approving empties the inbox", True)
    open_portal(custodian, "agreements")
    wait(custodian, lambda d: d.find_elements(By.CSS_SELECTOR, "#agreements tbody tr"))
    check("the custodian sees the agreement", "bi-malut" in text_of(custodian, "#agreements"))
    mou = WORK / "MOU BI Malut.pdf"
    mou.write_bytes(b"%PDF-1.4 MOU Dinkes Malut - BI Malut\n")
    custodian.find_element(By.ID, "agreement-partner").send_keys("bi-malut")
    custodian.find_element(By.ID, "agreement-datasets").send_keys("dinkes-malut/faskes")
    custodian.find_element(By.ID, "agreement-purpose").send_keys("statistik fasilitas")
    for field, days in (("agreement-from", -1), ("agreement-until", 90)):
        custodian.execute_script("arguments[0].value = arguments[1]", custodian.find_element(By.ID, field),
                                 time.strftime("%Y-%m-%d", time.gmtime(time.time() + days * 86400)))
    custodian.find_element(By.ID, "agreement-document").send_keys(str(mou))
    custodian.find_element(By.ID, "agreement-add").click()
    wait(custodian, lambda d: d.find_elements(By.ID, "agreement-added") or d.find_elements(By.CSS_SELECTOR, "#agreements-status .error"))
    check("an agreement is added from the browser", bool(custodian.find_elements(By.ID, "agreement-added")),
          text_of(custodian, "#agreements-status"))
    check("with the MOU's SHA-256 computed in the browser", sha256(mou) in text_of(custodian, "#agreements"))
    shot(custodian, "perjanjian")

    open_portal(partner, "packages")
    wait(partner, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-package="{package}"] a.download'))
    row = partner.find_element(By.CSS_SELECTOR, f'tr[data-package="{package}"]')
    check("once approved, the partner may download it", True)
    shot(partner, "paket-mitra")
    check("the page says the rahasia delivery comes age-encrypted and how to open it",
          "age -d" in row.find_element(By.CSS_SELECTOR, ".filename .notice").text)
    row.find_element(By.CSS_SELECTOR, "a.download").click()
    target = partner.downloads / "Laporan gizi – Ternate.csv.age"
    deadline = time.time() + 30
    while time.time() < deadline and not target.exists():
        time.sleep(0.2)
    check("the browser downloads it as NAME.age", target.exists(), str(list(partner.downloads.iterdir())))
    opened = cli("age", "decrypt", "-i", str(WORK / "bi-malut" / "age.key"), "-o", str(WORK / "opened.csv"), str(target))
    check("the partner's age identity opens it", opened.returncode == 0, opened.stderr)
    check("and the bytes match what the producer sent", opened.returncode == 0 and sha256(WORK / "opened.csv") == digest)
finally:
    partner.quit()
    custodian.quit()

# ---- The auditor verifies in the browser, and notices a tampered checkpoint
auditor = browser("inspektorat")
try:
    open_portal(auditor, "audit")
    key = wait(auditor, lambda d: d.find_element(By.ID, "audit-key"))
    # Pasted, as an auditor would: the value arrives at once.
    auditor.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                           key, (WORK / "log.vkey").read_text().strip())
    auditor.find_element(By.ID, "audit-key-save").click()
    try:
        wait(auditor, lambda d: d.find_elements(By.CSS_SELECTOR, "#audit-key-state .ok"))
        check("the pasted verifier key is accepted", True)
    except TimeoutException:
        shot(auditor, "failed-key")
        check("the pasted verifier key is accepted", False,
              repr((WORK / "log.vkey").read_text()) + " / textarea: " +
              repr(auditor.execute_script("return document.getElementById('audit-key').value")) + " / " +
              text_of(auditor, "#audit-key-state"))
        raise
    auditor.find_element(By.ID, "audit-package").send_keys(package)
    auditor.find_element(By.ID, "audit-search").click()
    # The filtered answer: every row names the package.
    wait(auditor, lambda d: 2 <= len(d.find_elements(By.CSS_SELECTOR, "#audit-entries tbody tr[data-index]")) <= 6 and all(
        package in r.text for r in d.find_elements(By.CSS_SELECTOR, "#audit-entries tbody tr[data-index]")))
    actions = [r.find_elements(By.TAG_NAME, "td")[3].text
               for r in auditor.find_elements(By.CSS_SELECTOR, "#audit-entries tbody tr[data-index]")]
    check("the search finds the package's push and pull", "package.push" in actions and "package.pull" in actions, str(actions))
    first = auditor.find_element(By.CSS_SELECTOR, "#audit-entries tbody tr[data-index]")
    first.find_element(By.CSS_SELECTOR, "button.link").click()
    shown_entry = auditor.find_element(By.CSS_SELECTOR, ".entry-detail:not([hidden]) pre").text
    check("an entry opens with its exact text", json.loads(shown_entry).get("resource", "").find(package) >= 0, shown_entry)

    def verify_first_row():
        for old in auditor.find_elements(By.CSS_SELECTOR, "#verify-ok, #verify-failed"):
            auditor.execute_script("arguments[0].remove()", old)
        auditor.find_element(By.CSS_SELECTOR, "#audit-entries tbody tr button.verify").click()
        wait(auditor, lambda d: d.find_elements(By.CSS_SELECTOR, "#verify-ok, #verify-failed"))
        ok = auditor.find_elements(By.ID, "verify-ok")
        return ("ok", ok[0].text) if ok else ("failed", text_of(auditor, "#verify-failed"))

    state, message = verify_first_row()
    check("the browser verifies the entry's inclusion under a signed checkpoint", state == "ok", message)
    check("and says it is the first checkpoint it has seen", "pertama" in message, message)
    cli("whoami", "--profile", str(WORK / "bi-malut"))  # the log grows
    state, message = verify_first_row()
    check("the next check proves the log extends the one seen before", state == "ok" and "kelanjutan" in message, message)
    check("without witness keys the page says cosignatures were not checked", "saksi" in message, message)
    # The witness's key, pasted as the log key was: the page then checks its cosignature itself.
    witness_box = auditor.find_element(By.ID, "audit-witness-keys")
    auditor.execute_script("arguments[0].value = arguments[1]", witness_box,
                           (WORK / "witness" / "witness.vkey").read_text().strip())
    auditor.find_element(By.ID, "audit-witness-save").click()
    wait(auditor, lambda d: d.find_elements(By.CSS_SELECTOR, "#audit-witness-state .ok"))
    deadline = time.time() + 20
    while True:
        state, message = verify_first_row()
        if "inspektorat.example.go.id/witness" in message or time.time() > deadline:
            break
        time.sleep(1)
    check("the auditor's page shows which witness cosigned the checkpoint it checked",
          state == "ok" and "1 dari 1 saksi" in message and "inspektorat.example.go.id/witness" in message, message)
    shot(auditor, "log-akses-saksi")
    shot(auditor, "log-akses")
    # A checkpoint altered on the way: its root no longer matches the signature.
    auditor.execute_script("""
        window.realFetch = window.fetch;
        window.fetch = async (url, init) => {
          const r = await window.realFetch(url, init);
          if (!String(url).includes('/v1/audit/checkpoint')) return r;
          const lines = (await r.text()).split('\\n');
          lines[2] = btoa(String.fromCharCode(...new Uint8Array(32)));
          return new Response(lines.join('\\n'), {status: 200});
        };""")
    state, message = verify_first_row()
    check("a tampered checkpoint is reported as such", state == "failed" and "tanda tangan" in message, message)
    auditor.execute_script("window.fetch = window.realFetch;")
    # A browser that saw a different log of the same origin before: a fork.
    auditor.execute_script("""
        for (const k of Object.keys(localStorage)) if (k.startsWith('serambi.seen:'))
          localStorage.setItem(k, JSON.stringify({size: 3, root: btoa(String.fromCharCode(...new Uint8Array(32)))}));""")
    state, message = verify_first_row()
    check("a log that does not extend the last one seen is reported", state == "failed" and "ditulis ulang" in message, message)
    shot(auditor, "log-akses-gagal")
    auditor.find_element(By.ID, "lang-en").click()
    wait(auditor, lambda d: text_of(d, "#nav-audit") == "Access log")
    check("the language switches to English", text_of(auditor, "h1") == "Access log")
    check("no page element shows an untranslated key (English)", not untranslated(auditor))
    version = auditor.execute_script("return document.querySelector('meta[name=serambi-version]').content")
    # A verifier key whose base64 holds '+' (the separator) is still read whole.
    plus_key = ""
    while "+" not in plus_key.split("+", 2)[-1]:
        der = subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-outform", "DER"], capture_output=True,
                             check=True).stdout
        public = subprocess.run(["openssl", "pkey", "-inform", "DER", "-pubout", "-outform", "DER"], input=der,
                                capture_output=True, check=True).stdout[-32:]
        raw = b"\x01" + public
        key_hash = hashlib.sha256(b"test.local/log\n" + raw).hexdigest()[:8]
        plus_key = f"test.local/log+{key_hash}+{base64.b64encode(raw).decode()}"
    parsed = auditor.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(`/assets/${arguments[0]}/tlog.js`).then(m => m.parseVerifierKey(arguments[1]))"
        ".then(k => done(k.name), e => done('error: ' + e.message));", version, plus_key)
    check("a verifier key with '+' in its base64 is read whole", parsed == "test.local/log", f"{plus_key}: {parsed}")
    missing = auditor.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "import(`/assets/${arguments[0]}/i18n.js`).then(m => done(m.missingKeys()), e => done(String(e)));", version)
    check("every message has both languages", missing == [], str(missing))
    shot(auditor, "audit-english")
    for page in ["", "packages"]:
        open_portal(auditor, page)
        time.sleep(0.5)
        check(f"no untranslated key on #/{page} in English", not untranslated(auditor))
    auditor.find_element(By.ID, "lang-id").click()
    check("and back to Bahasa Indonesia", text_of(auditor, "#nav-home") == "Beranda")
finally:
    auditor.quit()

# ---- Another site tries to use the admin's browser
gateway_port = URL.rsplit(":", 1)[1]
attack = f"""<!doctype html><html><body>
<form id="f" method="POST" action="{URL}/v1/datasets" enctype="text/plain">
<input name='{{"id":"admin/lewat-form","classification":"biasa","title":"x","p":"' value='"}}'></form>
<iframe id="frame" src="{URL}/"></iframe>
<script>
fetch("{URL}/v1/datasets", {{method: "POST", mode: "no-cors", credentials: "include",
  body: JSON.stringify({{id: "admin/lewat-fetch", classification: "biasa", title: "x"}})}})
  .catch(() => null).finally(() => setTimeout(() => document.getElementById("f").submit(), 1500));
</script></body></html>"""


class Attacker(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = attack.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attacker)
threading.Thread(target=server.serve_forever, daemon=True).start()
admin = browser("admin")
try:
    open_portal(admin, "admin")  # the admin is signed in to the portal in this browser
    wait(admin, lambda d: d.find_elements(By.CSS_SELECTOR, '#principals tr[data-principal="dinkes-malut"]'))
    check("the admin page lists the principals", True)
    own = admin.find_element(By.CSS_SELECTOR, '#principals tr[data-principal="admin"]')
    check("with no revoke or remove on the admin's own row", not own.find_elements(By.CSS_SELECTOR, "button"))
    check("but on the others'", bool(admin.find_elements(By.CSS_SELECTOR, '#principals tr[data-principal="dinkes-malut"] button.revoke')))
    check("and the datasets it may read", "Fasilitas kesehatan" in text_of(admin, "#datasets"))
    check("no untranslated key on the admin page", not untranslated(admin))
    shot(admin, "administrasi")
    admin.get(f"http://127.0.0.1:{server.server_address[1]}/")
    try:
        wait(admin, lambda d: d.current_url.startswith(URL), 20)  # the form navigates to the gateway
    except TimeoutException:
        pass
    time.sleep(1)
    shot(admin, "cross-site-refused")
finally:
    admin.quit()
    server.shutdown()
listing = cli("dataset", "list", "--profile", str(WORK.parent / WORK.name / "dep" / "profiles" / "admin"))
check("a cross-site form POST created nothing", "lewat-form" not in listing.stdout, listing.stdout)
check("a cross-site fetch created nothing", "lewat-fetch" not in listing.stdout)
entries = subprocess.run(["curl", "-sS", "--cacert", CA, "--cert", str(WORK / "inspektorat" / "client.crt"),
                          "--key", str(WORK / "inspektorat" / "client.key"),
                          f"{URL}/v1/audit/entries?principal=admin&decision=deny"], capture_output=True, text=True).stdout
refused = [json.loads(line) for line in entries.splitlines() if "cross-site request refused" in line]
actions = sorted(e["action"] for e in refused)
check("both refused changes are in the access log", actions.count("dataset.create") == 2, str(actions))
check("the portal in another site's frame was refused too", "portal.page" in actions, str(actions))

print(f"{passed} passed, {failed} failed (browser)")
sys.exit(1 if failed else 0)
