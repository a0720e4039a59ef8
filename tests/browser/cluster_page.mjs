// cluster_page.mjs: Debian's chromium, driven headless through the DevTools
// protocol (puppeteer-core), looks at pod 0's GET /cluster while the test
// changes the cluster underneath it. Run by test_cluster_page.sh, which
// starts the pods and reads the "ok\tDESC" / "fail\tDESC\tWHY" lines printed
// here. Every wait derives from the gossip interval and the page's own poll
// period, never from how fast this machine happens to be.
import { execFileSync } from "node:child_process";
import puppeteer from "puppeteer-core";

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const URL0 = env("POD0_URL"), URL1 = env("POD1_URL");
const NAMES = env("POD_NAMES").split(" ");
const GOSSIP_MS = Number(env("GOSSIP_MS"));
const POLL_MS = 1000; // the page fetches /cluster once a second
const VISIT_BOUND_MS = 3000; // the promise: a visit on the page within 3 s
// Suspect after interval x (4 + 3 ceil(log2 N)) (README, gossip); N counts
// the forged member too. Four times that plus a poll before calling it lost.
const N = NAMES.length + 1;
const SUSPECT_MS = GOSSIP_MS * (4 + 3 * Math.ceil(Math.log2(N)));
const DETECT_DEADLINE_MS = 4 * SUSPECT_MS + 2 * POLL_MS;
const EVIL = "<script>top.pwned=1</script><img src=x onerror=top.pwned=2>";

const say = (ok, desc, why = "") =>
  console.log(ok ? `ok\t${desc}` : `fail\t${desc}\t${String(why).replace(/\s+/g, " ")}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// What a person sees on the page, read from the DOM.
const view = (page) =>
  page.evaluate(() => ({
    total: document.getElementById("total").textContent,
    self: document.getElementById("self").textContent,
    down: !document.getElementById("down").hidden,
    downText: document.getElementById("down").textContent,
    marker: window.__tallyMarker === true,
    pwned: window.pwned,
    injected: document.querySelectorAll("#pods script, #pods img").length,
    rows: [...document.querySelectorAll("#pods > li")].map((li) => ({
      name: li.dataset.pod,
      nameText: li.querySelector(".name").textContent,
      state: li.dataset.state,
      stateText: li.querySelector(".state").textContent,
      color: getComputedStyle(li).borderLeftColor,
      visits: li.querySelector(".visits").textContent,
      meta: li.querySelector(".meta").textContent,
      tag: li.querySelector(".tag").textContent,
    })),
  }));
const row = (v, name) => v.rows.find((r) => r.name === name);
const digits = (s) => (s || "").replace(/[^0-9]/g, "");

// until(page, ms, pred): the first view within ms that pred accepts, else the last one seen.
async function until(page, ms, pred) {
  const end = Date.now() + ms;
  let v;
  for (;;) {
    v = await view(page);
    if (pred(v)) return { v, ok: true };
    if (Date.now() >= end) return { v, ok: false };
    await sleep(50);
  }
}

async function httpGet(url, accept) {
  const r = await fetch(url, { headers: accept ? { Accept: accept } : {} });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

async function main() {
  const errors = [];
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    userDataDir: env("PROFILE_DIR"),
    // root in a container has no user namespaces for the sandbox
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 860, height: 480, deviceScaleFactor: 1 });
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warn") errors.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("requestfailed", (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));

    // A browser's own Accept (chromium's default), not one we made up.
    const resp = await page.goto(URL0 + "/cluster", { waitUntil: "load" });
    const h = resp.headers();
    say(resp.status() === 200 && h["content-type"].startsWith("text/html"),
      "chromium's GET /cluster gets the HTML page", `${resp.status()} ${h["content-type"]}`);
    say(/\bAccept\b/i.test(h["vary"] || ""), "the page is sent with Vary: Accept", h["vary"]);
    const csp = h["content-security-policy"] || "";
    say(/default-src 'none'/.test(csp) && /script-src 'sha256-/.test(csp) && !/unsafe/.test(csp),
      "a strict Content-Security-Policy (default-src 'none', scripts by hash)", csp);
    const bytes = Number(h["content-length"]);
    say(bytes > 0 && bytes < 16384, `the page is one response of a few KB (${bytes} bytes)`, bytes);
    await page.evaluate(() => { window.__tallyMarker = true; }); // gone if the page reloads

    // 1. the three pods and the total, as the JSON says
    const json = JSON.parse((await httpGet(URL0 + "/cluster")).body);
    let r = await until(page, 2 * POLL_MS + 2000, (v) =>
      NAMES.every((n) => row(v, n)) && digits(v.total) === String(json.total));
    say(r.ok, `the page lists ${NAMES.join(", ")} and the total ${json.total}`, JSON.stringify(r.v));
    say(r.v.self === NAMES[0] && row(r.v, NAMES[0]).tag === "serving this page" &&
      r.v.rows.filter((x) => x.tag).length === 1,
      "the page names the pod serving it", r.v.self);
    const alive0 = row(r.v, NAMES[1]);
    say(alive0 && alive0.stateText === "alive" && alive0.state === "alive",
      "each pod's state is in words (alive)", JSON.stringify(alive0));
    say(alive0 && digits(alive0.visits) === String(json.pods.find((p) => p.name === NAMES[1]).visits),
      "each pod's count is shown", JSON.stringify(alive0));

    // 2. a visit on pod 1 reaches pod 0's page within 3 s, without a reload
    const before = Number(digits(row(r.v, NAMES[1]).visits));
    const total = Number(digits(r.v.total));
    const t0 = Date.now();
    const visit = await httpGet(URL1 + "/");
    r = await until(page, VISIT_BOUND_MS - (Date.now() - t0), (v) =>
      digits(row(v, NAMES[1])?.visits) === String(before + 1) && digits(v.total) === String(total + 1));
    const took = Date.now() - t0;
    say(visit.status === 200 && r.ok,
      `a visit on ${NAMES[1]} shows on ${NAMES[0]}'s page (its count ${before + 1}, total ${total + 1}) in ${took} ms (bound ${VISIT_BOUND_MS} ms)`,
      JSON.stringify(r.v));
    say(r.v.marker, "... without a reload (the page's state survived)", "marker gone");

    // 3. kill -9 pod 2: its card turns non-alive, in colour and in words
    const victim = NAMES[2];
    process.kill(Number(env("POD2_PID")), "SIGKILL");
    const tk = Date.now();
    r = await until(page, DETECT_DEADLINE_MS, (v) => {
      const x = row(v, victim);
      return x && x.state !== "alive" && x.stateText === x.state;
    });
    const gone = row(r.v, victim);
    say(r.ok && ["suspect", "dead"].includes(gone.state),
      `${victim} killed with -9 shows ${gone && gone.state} after ${Date.now() - tk} ms (deadline ${DETECT_DEADLINE_MS} ms)`,
      JSON.stringify(gone));
    say(gone && gone.color !== row(r.v, NAMES[1]).color, "... in another colour than an alive pod",
      JSON.stringify([gone, row(r.v, NAMES[1])]));
    if (process.env.SHOT) await page.screenshot({ path: process.env.SHOT, fullPage: true });

    // 4. a member named with markup, from the network, shows as text
    execFileSync("python3", [env("FORGE"), "--to", env("POD0_GOSSIP"), "--from-ip", env("FORGE_IP"),
      "--from-port", "7946", "stranger", `name=${EVIL}`, `addr=${env("FORGE_IP")}:7946`]);
    r = await until(page, 2 * POLL_MS + 2000, (v) => row(v, EVIL));
    const evil = row(r.v, EVIL);
    say(r.ok && evil.nameText === EVIL, "a pod named with <script> in it is shown as text",
      JSON.stringify(evil));
    say(r.v.injected === 0 && r.v.pwned === undefined,
      "... and nothing in its name ran or became an element", `${r.v.injected} ${r.v.pwned}`);

    // 5. the console stayed clean through all of that
    say(errors.length === 0, "no console errors, page errors or failed requests", errors.join(" | "));

    // 6. pod 0 itself stops answering: the page says so plainly. First two
    // more polls, so tallyctl cluster --watch (same period) has seen step 4.
    await sleep(2 * POLL_MS);
    process.kill(Number(env("POD0_PID")), "SIGKILL");
    r = await until(page, 2 * POLL_MS + 3000 + 2000, (v) => v.down);
    say(r.ok && r.v.downText.includes(`${NAMES[0]} stopped answering`),
      "when its pod stops answering the page says so", r.v.downText);
    say(r.v.marker && digits(r.v.total) === String(total + 1),
      "... and keeps showing the last numbers it had", JSON.stringify(r.v.total));

    // 7. the counter model: rows with slots (shown when more than one) and
    // fields the page does not know (ignored). The page's fetches are
    // answered here, so a pod with a lost volume need not be staged.
    const future = {
      pod: NAMES[0], total: 12, epoch: 7, pods: [
        { name: NAMES[0], visits: 7, state: "alive", address: "127.0.31.10:7946", last_seen_ms: 0,
          self: true, incarnation: 3, slots: [{ volume: "a1b2c3d4e5f60718", visits: 5, current: true },
            { volume: "0f0e0d0c0b0a0908", visits: 2, extra: true }] },
        { name: NAMES[1], visits: 5, state: "alive", address: "127.0.31.11:7946", last_seen_ms: 300,
          incarnation: 1, slots: [{ volume: "1111222233334444", visits: 5, current: true }],
          future: { x: 1 } },
      ],
    };
    await page.setRequestInterception(true);
    page.on("request", (q) => {
      if (q.resourceType() === "fetch" && new URL(q.url()).pathname === "/cluster")
        q.respond({ status: 200, contentType: "application/json", body: JSON.stringify(future) });
      else q.continue();
    });
    r = await until(page, 2 * POLL_MS + 2000, (v) => !v.down && digits(v.total) === "12");
    const slots = await page.evaluate(() => [...document.querySelectorAll("#pods > li")].map(
      (li) => [...li.querySelectorAll(".slots li")].map((x) => x.textContent)));
    say(r.ok && JSON.stringify(slots) ===
      JSON.stringify([["volume a1b2c3d4: 5 visits (counting now)", "volume 0f0e0d0c: 2 visits"], []]),
      "rows with slots show them (only where more than one), unknown fields are ignored",
      JSON.stringify([r.v.total, r.v.down, slots]));
    say(r.v.rows.length === 2, "... and a pod no longer listed leaves the page", r.v.rows.length);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  say(false, "the browser test ran to the end", e.stack || e);
  process.exitCode = 1;
});
