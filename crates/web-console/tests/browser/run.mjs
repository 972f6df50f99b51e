// Drives the console in headless Chromium for crates/console/tests/browser.rs, which starts the app,
// seeds it and passes everything in CONSOLE_TEST_CONFIG. Each check runs on its own; the script
// prints one line per check and exits non-zero if any failed. Waits are for conditions (a selector,
// a URL, a text), never for a fixed time.
import { createHmac } from "node:crypto";
import { readFileSync, mkdirSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const cfg = JSON.parse(process.env.CONSOLE_TEST_CONFIG);
const base = cfg.baseUrl;
const TIMEOUT = Number(process.env.CONSOLE_TIMEOUT_MS || 120_000); // a busy 2-core CI machine: generous, and only ever waited on a condition

const browser = await chromium.launch({ executablePath: cfg.chromium, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
const results = [];

async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
    // What the person would have seen, to tell a wrong page from a slow one.
    for (const p of browser.contexts().flatMap((c) => c.pages())) {
      const text = await p.locator("main").innerText({ timeout: 2000 }).catch(() => "(no main)");
      console.log(`     at ${p.url()}: ${text.replace(/\s+/g, " ").slice(0, 600)}`);
    }
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function session(options = {}) {
  const context = await browser.newContext({ baseURL: base, ...options });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const cspViolations = [];
  page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
  page.cspViolations = cspViolations;
  return { context, page };
}

async function signIn(page, email, slug = cfg.firm.slug) {
  await page.goto("/sign-in");
  await page.fill("input[name=organization]", slug);
  await page.fill("input[name=email]", email);
  await page.fill("input[name=password]", cfg.password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/sign-in")), page.click("button[type=submit]")]);
}

/// axe-core on the current page: no serious or critical violation.
async function accessible(page, label) {
  // Evaluated through the DevTools protocol: the page's CSP (rightly) refuses an injected script tag.
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert(bad.length === 0, `${label}: axe found ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`).join("; ")}`);
}

async function shot(page, name) {
  if (!cfg.screenshots) return;
  mkdirSync(cfg.screenshots, { recursive: true });
  await page.screenshot({ path: `${cfg.screenshots}/${name}.png`, fullPage: false });
}

/// The review page's field boxes: one labelled rect per field read on the page shown, inside the
/// page image; focusing a field's input lights its box up, hovering a box lights its field up.
async function fieldBoxes(page) {
  const boxes = page.locator("svg.field-boxes g.field-box");
  const keys = await boxes.evaluateAll((gs) => gs.map((g) => g.getAttribute("data-field")));
  const rows = await page.locator(".field-row[data-field]").evaluateAll((fs) => fs.map((f) => f.getAttribute("data-field")));
  assert(keys.length >= 4 && keys.includes("total"), `boxes for ${keys.join(", ")} of ${rows.join(", ")}`);
  assert(keys.every((k) => rows.includes(k)), `a box without a field: ${keys} / ${rows}`);
  const total = page.locator("g.field-box[data-field='total']");
  assert((await total.locator("text").textContent()).trim() === "total", "the total's box is not labelled");
  const img = await page.locator(".page-frame img").boundingBox();
  for (const k of keys) {
    const r = await page.locator(`g.field-box[data-field='${k}'] rect`).boundingBox();
    assert(r.width > 2 && r.height > 2 && r.x >= img.x - 1 && r.y >= img.y - 1
      && r.x + r.width <= img.x + img.width + 1 && r.y + r.height <= img.y + img.height + 1,
      `${k}'s box ${JSON.stringify(r)} is not on the page ${JSON.stringify(img)}`);
  }
  // The total is printed on the eighth line (baseline 180 of 500 pt), right of centre (columns
  // 26-31 of 9-pt Courier from x = 20 of 300 pt): the receipt in browser.rs.
  const t = await total.locator("rect").boundingBox();
  const at = { x: (t.x + t.width / 2 - img.x) / img.width, y: (t.y + t.height / 2 - img.y) / img.height };
  assert(Math.abs(at.x - 0.58) < 0.02 && Math.abs(at.y - 0.354) < 0.015, `the total's box is at ${JSON.stringify(at)}`);
  const label = await total.locator("text").boundingBox();
  assert(label && label.height > 4 && label.y + label.height / 2 < t.y && Math.abs(label.x - t.x) < 4, `the label ${JSON.stringify(label)} is not above the box ${JSON.stringify(t)}`);
  // Focus an input: its box lights up, and only it.
  await page.focus("input#f-total");
  await page.waitForSelector("g.field-box.active[data-field='total']");
  await page.waitForSelector(".field-row.active[data-field='total']");
  assert((await page.locator("g.field-box.active").count()) === 1, "more than one box lit");
  // Hover another box: its field lights up too; the mouse leaving leaves the focused one lit.
  const other = keys.find((k) => k !== "total");
  await page.hover(`g.field-box[data-field='${other}'] rect`);
  await page.waitForSelector(`.field-row.active[data-field='${other}']`);
  await page.waitForSelector(`g.field-box.active[data-field='${other}']`);
  await page.mouse.move(1, 1);
  await page.waitForSelector(`.field-row[data-field='${other}']:not(.active)`);
  assert((await page.locator("g.field-box.active").count()) === 1, "the hovered box stayed lit");
  // Clicking a box focuses its input.
  await page.click(`g.field-box[data-field='${other}'] rect`);
  await page.waitForFunction((k) => document.activeElement && document.activeElement.id === `f-${k}`, other);
  // Leave the total focused and lit alone (as the screenshot shows it).
  await page.mouse.move(1, 1);
  await page.focus("input#f-total");
  await page.waitForSelector(`g.field-box[data-field='${other}']:not(.active)`);
}

/// The current RFC 6238 code of a base32 secret (what an authenticator app would show).
function totp(secretBase32) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secretBase32.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const { context: ownerCtx, page } = await session({ viewport: { width: 1360, height: 860 } });

await check("an anonymous visit goes to sign-in, and a wrong password is refused on the page", async () => {
  await page.goto("/clients");
  assert(new URL(page.url()).pathname === "/sign-in", `expected the sign-in page, got ${page.url()}`);
  await page.fill("input[name=organization]", cfg.firm.slug);
  await page.fill("input[name=email]", cfg.firm.owner);
  await page.fill("input[name=password]", "not the password");
  await page.click("button[type=submit]");
  await page.waitForSelector("#sign-in-error");
  await accessible(page, "sign-in");
  await shot(page, "sign-in");
});

await check("the owner signs in and lands back where they were going, with a session cookie the page cannot read", async () => {
  await page.fill("input[name=password]", cfg.password);
  await Promise.all([page.waitForURL("**/clients"), page.click("button[type=submit]")]);
  const cookies = await ownerCtx.cookies();
  const s = cookies.find((c) => c.name === "ch_session");
  assert(s && s.httpOnly && s.sameSite === "Lax", `session cookie flags: ${JSON.stringify(s)}`);
  assert((await page.evaluate(() => document.cookie)).indexOf("ch_session") === -1, "the session cookie is visible to scripts");
});

await check("the dashboard shows open work, receivables and the review panel", async () => {
  await page.goto("/");
  await page.waitForSelector("text=2026 bookkeeping");
  await page.waitForSelector("#aging-h");
  const text = await page.textContent("main");
  assert(text.includes("USD 1,200.00"), "the open invoice's amount is not on the dashboard");
  await accessible(page, "dashboard");
  await shot(page, "dashboard");
});

await check("page weight: the first page loads its assets, later pages only their HTML (printed, for BENCHMARKS.md)", async () => {
  const { context, page: p } = await session({ storageState: await ownerCtx.storageState() });
  let bytes = 0;
  let requests = 0;
  p.on("requestfinished", async (r) => {
    const sizes = await r.sizes().catch(() => null);
    if (sizes) { bytes += sizes.responseBodySize + sizes.responseHeadersSize; requests += 1; }
  });
  await p.goto("/", { waitUntil: "networkidle" });
  const first = { bytes, requests };
  bytes = 0; requests = 0;
  await p.goto("/clients", { waitUntil: "networkidle" });
  console.log(`     page weight: first load (dashboard) ${first.bytes} B in ${first.requests} requests; next page (clients) ${bytes} B in ${requests} requests`);
  assert(bytes < first.bytes / 2, `the next page weighed ${bytes} B against ${first.bytes} B: the assets should come from the cache`);
  await context.close();
});

await check("the client list searches as you type, sorts, and opens a client", async () => {
  await page.goto("/clients");
  await page.waitForSelector("text=Birch Dental");
  await accessible(page, "clients");
  await shot(page, "clients");
  await page.fill("input[name=q]", "acme bakry"); // a typo: the search tolerates it
  await page.locator("#client-table", { hasNotText: "Birch Dental" }).waitFor();
  assert((await page.textContent("#client-table")).includes("Acme Bakery"), "the search lost Acme Bakery");
  assert(page.url().includes("q=acme"), "the search is not in the address");
  await page.goto("/clients?sort=name&order=desc");
  const first = await page.textContent("#client-table tbody tr:first-child td:nth-child(2)");
  assert(first.includes("Fjord Outfitters"), `descending by name starts with ${first}`);
  await page.click("text=Acme Bakery");
  await page.waitForSelector("nav.tabs");
  for (const tab of ["engagements", "invoices", "documents", "notes", "portal"]) {
    await page.goto(`/clients/${cfg.clients.first}?tab=${tab}`);
    await page.waitForSelector(`nav.tabs a[aria-current=page]`);
    await accessible(page, `client ${tab}`);
  }
  await page.goto(`/clients/${cfg.clients.first}?tab=invoices`);
  assert((await page.textContent("main")).includes("USD 1,200.00"), "the invoice is not on the invoices tab");
  await shot(page, "client-invoices");
});

await check("an invoice opens from the client's invoices and takes a payment; an overpayment is refused with the reason", async () => {
  await page.goto(`/clients/${cfg.clients.first}?tab=invoices`);
  await Promise.all([page.waitForURL(/\/invoices\//), page.click("main table a")]);
  await page.fill("input[name=amount]", "5000.00");
  await page.click("form[action$='/payments'] button");
  await page.waitForSelector(".alert.error");
  await page.fill("input[name=amount]", "200.00");
  await page.fill("input[name=method]", "ACH");
  await Promise.all([page.waitForLoadState("load"), page.click("form[action$='/payments'] button")]);
  await page.waitForSelector("#balance:has-text('1,000.00')");
  await accessible(page, "invoice");
  await shot(page, "invoice");
});

await check("a client is edited; an engagement is opened and moved along; portal access is granted and revoked", async () => {
  const other = cfg.clients.other;
  await page.goto(`/clients/${other}`);
  await Promise.all([page.waitForURL(`**/clients/${other}/edit`), page.click("text=Edit client")]);
  await page.fill("input[name=industry]", "outdoor retail");
  await page.fill("input[name=primary_contact_phone]", "call me maybe"); // the browser lets it through; the server does not
  const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/edit") && r.request().method() === "POST"), page.click("main form button[type=submit]")]);
  assert(refused[0].status() === 422, `a bad phone number: status ${refused[0].status()}`);
  await page.waitForSelector("label:has(input[name=primary_contact_phone]) .field-error");
  await accessible(page, "edit client");
  await shot(page, "client-edit");
  assert((await page.inputValue("input[name=industry]")) === "outdoor retail", "the refused form lost what was typed");
  await page.fill("input[name=primary_contact_phone]", "+1 (503) 555-0142");
  await page.fill("input[name=primary_contact_email]", "ops@fjord.example");
  await Promise.all([page.waitForURL(`**/clients/${other}`), page.click("main form button[type=submit]")]);
  const overview = await page.textContent("main");
  assert(overview.includes("outdoor retail") && overview.includes("ops@fjord.example"), "the edit did not show on the overview");

  await page.goto(`/clients/${other}?tab=engagements`);
  await Promise.all([page.waitForURL("**/engagements/new"), page.click("text=New engagement")]);
  await page.fill("input[name=name]", "2026 tax return");
  await page.selectOption("select[name=engagement_type]", "tax_preparation");
  await page.fill("input[name=start_date]", "2026-05-01");
  await page.fill("input[name=due_date]", "2026-04-15");
  await page.click("main form button[type=submit]");
  await page.waitForSelector("label:has(input[name=due_date]) .field-error");
  await page.fill("input[name=start_date]", "2026-01-15");
  await Promise.all([page.waitForURL(/\/engagements\/[0-9a-f-]{36}$/), page.click("main form button[type=submit]")]);
  await page.selectOption("select[name=status]", "in_progress");
  await page.fill("input[name=hourly_rate]", "150.00");
  await page.selectOption("select[name=assigned_to]", cfg.firm.owner_id);
  await Promise.all([page.waitForLoadState("load"), page.click("main form button[type=submit]")]);
  await page.waitForSelector(".badge:has-text('in progress')");
  assert((await page.textContent("main")).includes("150.00"), "the hourly rate is not shown");
  await page.waitForSelector("#time-h");
  assert((await page.textContent("#engagement-hours")).startsWith("0.00"), "no time logged yet");
  await accessible(page, "engagement");
  await shot(page, "engagement");
  await page.goto(`/clients/${other}?tab=engagements`);
  await page.waitForSelector("main table a:has-text('2026 tax return')");

  await page.goto(`/clients/${other}?tab=portal`);
  await page.waitForSelector("text=No portal users");
  const person = await page.getAttribute(`select[name=user_id] option:has-text('${cfg.portal}')`, "value");
  await page.selectOption("select[name=user_id]", person);
  await Promise.all([page.waitForLoadState("load"), page.click("button:has-text('Give access')")]);
  await page.waitForSelector(`main table tr:has-text('${cfg.portal}') .badge:has-text('active')`);
  await accessible(page, "client portal access");
  await shot(page, "client-portal");
  await page.click(`main table tr:has-text('${cfg.portal}') summary:has-text('Revoke')`);
  await Promise.all([page.waitForLoadState("load"), page.click(".confirm-box button:has-text('Revoke')")]);
  await page.waitForSelector("text=No portal users"); // a revoked grant is gone from the list (the audit log keeps it)
});

await check("a workflow template is copied and edited (a cycle refused), started for a client, and its steps worked through", async () => {
  await page.goto("/workflows");
  await page.waitForSelector("main table a:has-text('Financial Statement Preparation')");
  assert((await page.locator("main table tbody tr").count()) >= 8, "the eight system templates are listed");
  await accessible(page, "workflows");
  await shot(page, "workflows");
  await Promise.all([page.waitForURL(/\/workflows\/templates\/[0-9a-f-]{36}$/), page.click("main table a:has-text('Financial Statement Preparation')")]);
  assert((await page.locator("svg.dag .node").count()) === 6, "the graph draws the six steps");
  await accessible(page, "workflow template");
  await shot(page, "workflow-template");

  await Promise.all([page.waitForURL(/\/edit$/), page.click("main button:has-text('Copy')")]);
  await page.fill("input[name=s0_depends_on]", "final_review");
  const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/edit") && r.request().method() === "POST"), page.click("button:has-text('Save template')")]);
  assert(refused[0].status() === 422, `a cycle: status ${refused[0].status()}`);
  await page.waitForSelector(".alert.error:has-text('the dependencies form a cycle')");
  await accessible(page, "workflow editor");
  await shot(page, "workflow-editor");
  await page.fill("input[name=s0_depends_on]", "");
  await page.fill("input[name=s6_key]", "sign_off");
  await page.fill("input[name=s6_name]", "Partner sign-off");
  await page.fill("input[name=s6_hours]", "0.5");
  await page.fill("input[name=s6_depends_on]", "final_review");
  await page.selectOption("select[name=s6_kind]", "approval");
  await Promise.all([page.waitForURL(/\/workflows\/templates\/[0-9a-f-]{36}$/), page.click("button:has-text('Save template')")]);
  await page.waitForSelector(".badge:has-text('version 2')");
  assert((await page.locator("svg.dag .node").count()) === 7, "the saved template has the new step");

  const other = cfg.clients.other;
  await page.goto(`/clients/${other}?tab=workflows`);
  await page.waitForSelector("text=No workflows yet");
  const template = await page.getAttribute("select[name=template_id] option:has-text('(copy)')", "value");
  await page.selectOption("select[name=template_id]", template);
  await page.fill("input[name=due_date]", "2099-06-30");
  await Promise.all([page.waitForURL(/\/workflows\/runs\/[0-9a-f-]{36}$/), page.click("button:has-text('Start')")]);
  const run = page.url();
  assert((await page.locator("svg.dag .node.ready").count()) === 1, "only the first step is ready");
  const first = "main table tbody tr:has-text('Analyze the chart of accounts')";
  await page.selectOption(`${first} select[name=assignee]`, cfg.firm.owner_id);
  await Promise.all([page.waitForLoadState("load"), page.click(`${first} button:has-text('Assign')`)]);

  await page.goto("/work");
  const mine = "main table tbody tr:has-text('Analyze the chart of accounts')";
  await page.waitForSelector(mine);
  await Promise.all([page.waitForLoadState("load"), page.click(`${mine} button:has-text('Start')`)]);
  await page.waitForSelector(`${mine} .badge:has-text('in progress')`);
  await accessible(page, "my work");
  await shot(page, "my-work");
  await Promise.all([page.waitForLoadState("load"), page.click(`${mine} button:has-text('Done')`)]);
  await page.waitForSelector("text=Nothing assigned to you");

  await page.goto(run);
  await page.waitForSelector("svg.dag .node.done");
  assert((await page.locator("svg.dag .node.ready").count()) === 2, "balance sheet and income statement are ready together");
  await Promise.all([page.waitForLoadState("load"), page.click("main button:has-text('Pause')")]);
  await page.waitForSelector(".badge:has-text('paused')");
  assert((await page.locator("main table button:has-text('Done')").count()) === 0, "a paused run offers no step actions");
  await Promise.all([page.waitForLoadState("load"), page.click("main button:has-text('Resume')")]);
  await page.waitForSelector("main table button:has-text('Done')");
  await accessible(page, "workflow run");
  await shot(page, "workflow-run");
});

await check("team workload: routing is switched on (a bad A/B split refused), and a new run's first step is routed with its reasons", async () => {
  await page.goto("/team");
  await page.waitForSelector("main table tbody tr");
  await page.selectOption("select[name=routing]", "scored");
  await page.fill("input[name=ab_percent]", "50");
  const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/team/routing")), page.click("button:has-text('Save routing')")]);
  assert(refused[0].status() === 422, `an A/B split without a second strategy: status ${refused[0].status()}`);
  await page.waitForSelector("label:has(select[name=ab_routing]) .field-error");
  await page.fill("input[name=ab_percent]", "0");
  await Promise.all([page.waitForURL("**/team"), page.click("button:has-text('Save routing')")]);
  assert((await page.inputValue("select[name=routing]")) === "scored", "the routing was not saved");

  await page.goto(`/clients/${cfg.clients.first}?tab=workflows`);
  const template = await page.getAttribute("select[name=template_id] option:has-text('Quarterly Tax Estimates')", "value");
  await page.selectOption("select[name=template_id]", template);
  // Due in ten days: inside the four weeks the team view shows.
  const due = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  await page.fill("input[name=due_date]", due);
  await Promise.all([page.waitForURL(/\/workflows\/runs\/[0-9a-f-]{36}$/), page.click("button:has-text('Start')")]);
  const first = "main table tbody tr:has-text('Gather year-to-date data')";
  await page.waitForSelector(`${first} details.why`);
  await page.click(`${first} details.why summary`);
  const why = await page.textContent(`${first} details.why`);
  assert(/workload/.test(why) && /availability/.test(why), `the reasons: ${why}`);
  assert((await page.inputValue(`${first} select[name=assignee]`)) !== "", "the first step has an assignee");
  await page.goto("/team");
  await page.waitForSelector("main table td.load");
  await accessible(page, "team workload");
  await shot(page, "team-workload");
});

await check("time: a timer started from a step is stopped, a manual entry is logged (one over a day is refused with the reason), the week adds up, and the engagement's work in progress is billed once as a draft invoice", async () => {
  await page.goto(`/clients/${cfg.clients.other}?tab=workflows`);
  await Promise.all([page.waitForURL(/\/workflows\/runs\/[0-9a-f-]{36}$/), page.click("main table tbody a >> nth=0")]);
  const run = page.url();
  const step = "main table tbody tr:has-text('Balance sheet')";
  await page.selectOption(`${step} select[name=assignee]`, cfg.firm.owner_id);
  await Promise.all([page.waitForLoadState("load"), page.click(`${step} button:has-text('Assign')`)]);
  await Promise.all([page.waitForLoadState("load"), page.click(`${step} button:has-text('Start timer')`)]);
  await page.waitForSelector("#timer:has-text('Balance sheet')");

  await page.goto("/time");
  await page.waitForSelector("#timer:has-text('Balance sheet')");
  await Promise.all([page.waitForLoadState("load"), page.click("#timer button:has-text('Stop')")]);
  await page.waitForSelector("main table tbody a:has-text('Balance sheet')");
  assert((await page.locator("#timer").count()) === 0, "the timer stopped");
  const before = Number(await page.textContent("#week-total"));
  assert(before > 0, `the stopped timer counts: ${before}`);

  const target = await page.getAttribute("select[name=target] option:has-text('2026 tax return')", "value");
  await page.selectOption("select[name=target]", target);
  await page.fill("input[name=start]", "00:00");
  await page.fill("input[name=minutes]", "1500");
  const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/time/entries") && r.request().method() === "POST"), page.click("button:has-text('Log time')")]);
  assert(refused[0].status() === 422, `a day and more: status ${refused[0].status()}`);
  await page.waitForSelector(".field-error:has-text('must be 1 to 1440 minutes')");
  await page.fill("input[name=minutes]", "90");
  await page.fill("input[name=note]", "Tied out the bank balances");
  await Promise.all([page.waitForURL(/\/time\?week=/), page.click("button:has-text('Log time')")]);
  await page.waitForSelector("main table td:has-text('Tied out the bank balances')");
  const after = Number(await page.textContent("#week-total"));
  assert(Math.abs(after - before - 1.5) < 0.011, `the week's total grew by 1.5 hours: ${before} -> ${after}`);
  assert((await page.textContent("#week-amount")).includes("225.00"), "90 minutes at 150.00 is 225.00");
  await accessible(page, "time sheet");
  await shot(page, "time-sheet");

  // The engagement's hours follow its entries, and its work in progress is their amount.
  await Promise.all([page.waitForURL(/\/engagements\/[0-9a-f-]{36}$/), page.click("main table a:has-text('2026 tax return')")]);
  assert((await page.textContent("#engagement-hours")).startsWith("1.50"), "the engagement's hours are its entries'");
  await page.waitForSelector("#engagement-wip:has-text('225.00')");
  await accessible(page, "engagement time");
  // Billing the work in progress opens its draft invoice; back on the engagement, nothing is left to bill.
  const engagement = page.url();
  await Promise.all([page.waitForURL(/\/invoices\/[0-9a-f-]{36}$/), page.click("main button:has-text('Bill unbilled time')")]);
  await page.waitForSelector("main:has-text('draft')");
  await page.waitForSelector("main td:has-text('225.00')");
  await shot(page, "billed-time-invoice");
  await page.goto(engagement);
  await page.waitForSelector("#engagement-wip:has-text('0.00')");
  assert((await page.locator("main button:has-text('Bill unbilled time')").count()) === 0, "nothing left to bill");
  await page.waitForSelector("main table a:has-text('billed')");

  await page.goto(run);
  const logged = parseFloat(await page.locator(`${step} td.num`).nth(1).textContent());
  assert(logged > 0, `the step shows the timer's hours: ${logged}`);
  await shot(page, "workflow-run-time");
});

await check("recurring runs: the firm's time zone is set, a client's monthly schedule previews its next three periods (a bad cron refused) and is paused and resumed", async () => {
  await page.goto("/team");
  await page.fill("input[name=time_zone]", "Mars/Base");
  const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/team/routing")), page.click("button:has-text('Save routing')")]);
  assert(refused[0].status() === 422, `an unknown time zone: status ${refused[0].status()}`);
  await page.waitForSelector("label:has(input[name=time_zone]) .field-error");
  await page.fill("input[name=time_zone]", "America/New_York");
  await Promise.all([page.waitForURL("**/team"), page.click("button:has-text('Save routing')")]);
  assert((await page.inputValue("input[name=time_zone]")) === "America/New_York", "the time zone was not saved");

  await page.goto(`/clients/${cfg.clients.other}?tab=workflows`);
  await page.waitForSelector("text=No recurring schedule");
  const form = "form[action$='/workflow-schedules']";
  const template = await page.getAttribute(`${form} select[name=template_id] option:has-text('Monthly Bookkeeping')`, "value");
  await page.selectOption(`${form} select[name=template_id]`, template);
  await page.fill(`${form} input[name=cron]`, "every month");
  await page.click(`${form} button:has-text('Preview the next 3')`);
  await page.waitForSelector("#schedule-preview .field-error");
  await page.fill(`${form} input[name=cron]`, "0 0 1 * *");
  await page.fill(`${form} input[name=due_business_day]`, "5");
  await page.click(`${form} button:has-text('Preview the next 3')`);
  await page.waitForSelector("#schedule-preview li >> nth=2");
  const preview = await page.textContent("#schedule-preview");
  assert(/America\/New_York/.test(preview) && /00:00 E[SD]T/.test(preview) && /due/.test(preview), `the preview: ${preview}`);
  await Promise.all([page.waitForURL(/tab=workflows/), page.click(`${form} button:has-text('Create schedule')`)]);
  const row = "section:has(#schedules-h) table tbody tr";
  await page.waitForSelector(`${row}:has-text('0 0 1 * *')`);
  assert((await page.locator(`${row} ol.occurrences li`).count()) === 3, "the schedule shows its next three periods");
  await accessible(page, "client schedules");
  await shot(page, "client-schedules");
  await Promise.all([page.waitForURL(/tab=workflows/), page.click(`${row} button:has-text('Pause')`)]);
  await page.waitForSelector(`${row} .badge:has-text('paused')`);
  await Promise.all([page.waitForURL(/tab=workflows/), page.click(`${row} button:has-text('Resume')`)]);
  await page.waitForSelector(`${row} ol.occurrences`);
});

await check("bulk start: a template is started for every ticked client, and the progress bar fills until done", async () => {
  await page.goto("/workflows");
  await Promise.all([page.waitForURL(/\/workflows\/templates\/[0-9a-f-]{36}$/), page.click("main table a:has-text('Monthly Bookkeeping')")]);
  await Promise.all([page.waitForURL(/\/bulk$/), page.click("main a:has-text('Start for clients')")]);
  await page.waitForSelector("#bulk-form table tbody tr");
  // Nothing ticked: nothing to start.
  assert(await page.isDisabled("#bulk-form button:has-text('Start runs')"), "the button waits for a ticked client");
  const due = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
  await page.fill("#bulk-form input[name=due_date]", due);
  await page.check("#bulk-form [data-select-all]");
  const ticked = await page.locator("#bulk-form input[name=ids]:checked").count();
  assert(ticked > 0 && ticked === (await page.locator("#bulk-form input[name=ids]").count()), "select all ticks every client shown");
  await accessible(page, "bulk start");
  await shot(page, "bulk-start");
  await Promise.all([page.waitForURL(/\/workflows\/bulk\/[0-9a-f-]{36}$/), page.click("button:has-text('Start runs')")]);
  await page.waitForSelector("#bulk-progress h2:has-text('Done')", { timeout: 60_000 });
  assert((await page.getAttribute("#bulk-progress progress", "value")) === "100", "the bar is full");
  const text = await page.textContent("#bulk-progress");
  assert(text.includes(`${ticked} started`), `every ticked client got its run: ${text}`);
  await accessible(page, "bulk start progress");
  await shot(page, "bulk-start-progress");
});

await check("tasks: a new task from a client's page (a blank title refused), its checklist, attachment and comment, its details edited, a second task waiting for it, the work board's views, and bulk reassign", async () => {
  await page.goto(`/clients/${cfg.clients.first}?tab=workflows`);
  await Promise.all([page.waitForURL(/\/tasks\/new\?client_id=/), page.click("main a:has-text('New task')")]);
  await page.fill("input[name=due_date]", "2020-01-06");
  await page.selectOption("select[name=assignee]", cfg.firm.owner_id);
  const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/tasks") && r.request().method() === "POST"), page.click("button:has-text('Create task')")]);
  assert(refused[0].status() === 422, `a blank title: status ${refused[0].status()}`);
  await page.waitForSelector("label:has(input[name=title]) .field-error");
  await page.fill("input[name=title]", "Chase the missing 1099s");
  await Promise.all([page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/), page.click("button:has-text('Create task')")]);
  const task = page.url();
  await page.waitForSelector(".badge:has-text('overdue')");
  for (const text of ["Email the client", "Log the answer"]) {
    await page.fill("input[name=text]", text);
    await Promise.all([page.waitForLoadState("load"), page.click("main button:has-text('Add')")]);
    await page.waitForSelector(`ul.checklist li:has-text('${text}')`);
  }
  await Promise.all([page.waitForLoadState("load"), page.click("button[aria-label='Move up: Log the answer']")]);
  assert((await page.textContent("ul.checklist li >> nth=0")).includes("Log the answer"), "moved up");
  await Promise.all([page.waitForLoadState("load"), page.click("button[aria-label='Tick: Email the client']")]);
  await page.waitForSelector("text=1 of 2 done");
  if ((await page.locator("select[name=document_id]").count()) > 0) {
    await Promise.all([page.waitForLoadState("load"), page.click("main button:has-text('Attach')")]);
    await page.waitForSelector("main button:has-text('Detach')");
  }
  await page.fill("textarea[name=body]", `Asked by phone too, @${cfg.firm.owner}`);
  await Promise.all([page.waitForLoadState("load"), page.click("main button:has-text('Comment')")]);
  await page.waitForSelector("article.comment:has-text('Asked by phone too')");
  // The author edits the comment from its "Edit" (a form, no script); it is marked edited.
  const mine = "article.comment:has-text('Asked by phone too')";
  await page.click(`${mine} summary:has-text('Edit')`);
  await page.fill(`${mine} textarea[name=body]`, "Asked by phone and by email");
  await Promise.all([page.waitForLoadState("load"), page.click(`${mine} button:has-text('Save')`)]);
  await page.waitForSelector("article.comment:has-text('Asked by phone and by email') .edited");
  assert((await page.locator("article.comment:has-text('Asked by phone too')").count()) === 0, "the old body is gone");
  const editedTitle = await page.getAttribute("article.comment .edited", "title");
  assert(/^Edited \w{3} \d{1,2}, \d{4} \d\d:\d\d UTC$/.test(editedTitle), `the edited marker's title: ${editedTitle}`);
  await accessible(page, "task");
  await shot(page, "task");
  await page.click("article.comment summary:has-text('Edit')");
  await shot(page, "task-comment-edit");
  // A long thread shows its latest 20 comments; "Show earlier comments" pages back to the first.
  const newComment = "form[action$='/comments'] textarea[name=body]";
  for (let i = 1; i <= 20; i++) {
    await page.fill(newComment, `Follow-up ${i}`);
    await Promise.all([page.waitForLoadState("load"), page.click("main button:has-text('Comment')")]);
    await page.waitForSelector(`article.comment:has-text('Follow-up ${i}')`);
  }
  assert((await page.locator("article.comment").count()) === 20, "the latest page holds 20");
  assert((await page.locator("article.comment:has-text('Asked by phone and by email')").count()) === 0, "the first is on the earlier page");
  await Promise.all([page.waitForURL(/\?comments=/), page.click("main a:has-text('Show earlier comments')")]);
  await page.waitForSelector("article.comment:has-text('Asked by phone and by email')");
  assert((await page.locator("article.comment").count()) === 1, "the earlier page holds the one before");
  assert((await page.locator("main a:has-text('Show earlier comments')").count()) === 0, "nothing earlier than the first");
  await shot(page, "task-comments-earlier");
  await Promise.all([page.waitForURL(task + "#comments-h"), page.click("main a:has-text('Show the latest comments')")]);
  await page.waitForSelector("article.comment:has-text('Follow-up 20')");
  // The author deletes one (from under its "Edit"); the thread no longer shows it.
  const last = "article.comment:has-text('Follow-up 20')";
  await page.click(`${last} summary:has-text('Edit')`);
  await Promise.all([page.waitForLoadState("load"), page.click(`${last} button:has-text('Delete')`)]);
  await page.waitForSelector("article.comment:has-text('Follow-up 19')");
  assert((await page.locator(last).count()) === 0, "the deleted comment is gone");

  // Its details edited; then a second task waits for it, and stops waiting.
  await Promise.all([page.waitForURL(/\/edit$/), page.click("main a:has-text('Edit')")]);
  await accessible(page, "task edit");
  await page.fill("input[name=title]", "Chase the missing 1099s and W-9s");
  await page.selectOption("select[name=priority]", "high");
  await Promise.all([page.waitForURL(task), page.click("button:has-text('Save')")]);
  await page.waitForSelector("h1:has-text('Chase the missing 1099s and W-9s')");
  await page.waitForSelector("main .badge:has-text('High')");
  await page.goto(`/tasks/new?client_id=${cfg.clients.first}`);
  await page.fill("input[name=title]", "File the 1099s");
  await page.fill("input[name=due_date]", "2099-01-29");
  await Promise.all([page.waitForURL(/\/tasks\/[0-9a-f-]{36}$/), page.click("button:has-text('Create task')")]);
  const waiting = page.url();
  const first = await page.locator("select[name=depends_on] option:has-text('Chase the missing 1099s')").getAttribute("value");
  await page.selectOption("select[name=depends_on]", first);
  await Promise.all([page.waitForURL(waiting), page.click("main button:has-text('Add dependency')")]);
  await page.waitForSelector("main dd a:has-text('Chase the missing 1099s')");
  await page.waitForSelector("main .badge:has-text('blocked')");
  await shot(page, "task-waiting");
  await Promise.all([page.waitForURL(waiting), page.click("button[aria-label='Stop waiting for Chase the missing 1099s and W-9s']")]);
  await page.waitForSelector("main dd:has-text('Nothing')");

  await page.goto("/work?view=overdue");
  const row = "main table tbody tr:has-text('Chase the missing 1099s')";
  await page.waitForSelector(row);
  await accessible(page, "work board");
  await shot(page, "work-board");
  await page.goto("/work?view=review");
  await page.waitForSelector("text=Nothing to review");
  await page.goto("/work");
  await page.locator(row).locator("input[name=ids]").check();
  await page.waitForSelector("text=1 selected");
  const to = await page.getAttribute("select[name=assignee] option >> nth=-1", "value");
  await page.selectOption("select[name=assignee]", to);
  await Promise.all([page.waitForURL("**/work?view=mine"), page.click("main button:has-text('Reassign')")]);
  await page.goto(task);
  if (to !== cfg.firm.owner_id) {
    assert(!(await page.textContent("main dl")).includes("Unassigned"), "the task has its new assignee");
  }
});

/// Reloads `url` until `selector` shows (the worker acts between page loads).
async function reloadUntil(page, url, selector) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    await page.goto(url);
    try {
      await page.waitForSelector(selector, { timeout: 1000 });
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

await check("steps that run themselves: an email step mails the portal user and its wait shows its end; one with nobody to mail is blocked with the reason and retried", async () => {
  const a = cfg.automation;
  await page.goto(`/clients/${a.client}?tab=workflows`);
  await page.selectOption("select[name=template_id]", a.template);
  await page.fill("input[name=due_date]", "2099-06-30");
  await Promise.all([page.waitForURL(/\/workflows\/runs\/[0-9a-f-]{36}$/), page.click("button:has-text('Start')")]);
  const run = page.url();
  const hello = "main table tbody tr:has-text('Welcome letter')";
  const pause = "main table tbody tr:has-text('Give them three days')";
  await reloadUntil(page, run, `${hello} .outcome:has-text('sent to ${a.reader}')`);
  await page.waitForSelector(`${hello} .badge:has-text('done')`);
  await page.waitForSelector(`${pause} .outcome:has-text('waits until') time`);
  assert((await page.locator(`${pause} .badge:has-text('ready')`).count()) === 1, "the wait is under way");
  await accessible(page, "workflow run with automation");
  await shot(page, "workflow-run-automation");

  await page.goto(`/clients/${a.unmailable}?tab=workflows`);
  await page.selectOption("select[name=template_id]", a.template);
  await page.fill("input[name=due_date]", "2099-06-30");
  await Promise.all([page.waitForURL(/\/workflows\/runs\/[0-9a-f-]{36}$/), page.click("button:has-text('Start')")]);
  const blocked = page.url();
  await reloadUntil(page, blocked, `${hello} button:has-text('Retry')`);
  const why = await page.textContent(`${hello} .outcome-error`);
  assert(/has no portal users/.test(why) && /1 attempt/.test(why), `the reason: ${why}`);
  await shot(page, "workflow-run-automation-blocked");
  await Promise.all([page.waitForLoadState("load"), page.click(`${hello} button:has-text('Retry')`)]);
  await reloadUntil(page, blocked, `${hello} .outcome-error:has-text('2 attempts')`);
  await accessible(page, "workflow run with a blocked automation");
});

await check("reminders: the team page shows stuck work and the firm's holidays (a day added, the same day refused, then removed); a client request shows its next reminder", async () => {
  await page.goto("/team");
  const over = "#stuck tbody tr:has-text('Reconcile the statements')";
  await page.waitForSelector(over);
  assert(/%/.test(await page.textContent(`${over} .badge`)), "the step shows how far over its estimate it is");
  await page.fill("#holidays input[name=date]", "2099-07-03");
  await page.fill("#holidays input[name=name]", "Firm retreat");
  await Promise.all([page.waitForURL("**/team#holidays"), page.click("button:has-text('Add holiday')")]);
  await page.waitForSelector("#holidays tbody tr:has-text('Firm retreat')");
  await page.fill("#holidays input[name=date]", "2099-07-03");
  await page.fill("#holidays input[name=name]", "Again");
  const refused = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/team/holidays") && r.request().method() === "POST"), page.click("button:has-text('Add holiday')")]);
  assert(refused[0].status() === 409, `the same day twice: status ${refused[0].status()}`);
  await page.waitForSelector(".alert.error:has-text('already a holiday of the firm')");
  assert((await page.locator("#holidays tbody tr").count()) === 1, "nothing more was stored");
  await accessible(page, "holidays refused");
  await page.goto("/team#holidays");
  await page.waitForSelector("#holidays tbody tr:has-text('Firm retreat')");
  await accessible(page, "team stuck work and holidays");
  await page.locator("#stuck").scrollIntoViewIfNeeded();
  await shot(page, "team-stuck-holidays");
  await Promise.all([page.waitForResponse((r) => r.url().includes("/team/holidays/2099-07-03/delete")), page.click("#holidays button[aria-label^='Remove Firm retreat']")]);
  await page.waitForSelector("#holidays:has-text('No firm holidays yet')");

  await page.goto(`/workflows/runs/${cfg.reminders.run}`);
  await page.waitForSelector("main table tbody tr:has-text('Send us your bank statements') .reminders:has-text('next')");
  await accessible(page, "workflow run reminders");
  await shot(page, "workflow-run-reminders");
});

await check("bulk archive takes the ticked clients out of the list", async () => {
  await page.goto("/clients");
  const row = page.locator("tr", { hasText: "Ember Studios" });
  await row.locator("input[name=ids]").check();
  await page.waitForSelector("text=1 selected");
  await Promise.all([page.waitForURL("**/clients"), page.click("button[value=archive]")]);
  await page.waitForSelector("text=Birch Dental");
  assert(!(await page.textContent("main")).includes("Ember Studios"), "Ember Studios is still listed");
});

await check("a new client is created from the form; a blank name is refused with the reason", async () => {
  await page.goto("/clients/new");
  await page.fill("input[name=business_name]", "   ");
  await page.evaluate(() => document.querySelector("input[name=business_name]").removeAttribute("required"));
  await page.click("main form button[type=submit]");
  await page.waitForSelector(".alert.error");
  await page.fill("input[name=business_name]", "Granite Legal");
  await Promise.all([page.waitForURL(/\/clients\/[0-9a-f-]{36}$/), page.click("main form button[type=submit]")]);
  assert((await page.textContent("h1")).includes("Granite Legal"), "not on the new client's page");
});

await check("a CSV import with one bad row names the row and imports nothing", async () => {
  await page.goto("/clients/import");
  await page.setInputFiles("input[type=file]", cfg.files.csv);
  await page.click("button[value=import]");
  await page.waitForSelector("#import-report");
  const report = await page.textContent("#import-report");
  assert(report.includes("nothing was imported") && report.includes("3"), `report: ${report}`);
  await accessible(page, "import");
  await page.goto("/clients?q=Good%20Row");
  assert(!(await page.textContent("#client-table")).includes("Good Row LLC"), "a row was imported");
});

await check("a document uploaded with progress is read and waits in the review queue with its fields boxed on the page; a field is corrected and it is approved", async () => {
  await page.goto(`/clients/${cfg.clients.first}?tab=documents`);
  await page.setInputFiles("form[data-upload] input[type=file]", cfg.files.receipt);
  await page.selectOption("form[data-upload] select[name=category]", "receipt");
  await Promise.all([page.waitForURL(/\/batches\//), page.click("form[data-upload] button[type=submit]")]);
  await page.waitForSelector("text=to review", { timeout: TIMEOUT });
  await shot(page, "upload-progress");
  await page.goto("/review");
  await page.waitForSelector("text=corner-market-receipt.pdf");
  await accessible(page, "review queue");
  await page.click("text=Start reviewing");
  await page.waitForSelector("#fields-h");
  await page.waitForSelector("img[alt^='First page']");
  await page.waitForFunction(() => { const i = document.querySelector(".page-frame img"); return i && i.complete && i.naturalWidth > 0; });
  await accessible(page, "review");
  await fieldBoxes(page);
  await shot(page, "review");
  const total = page.locator("input#f-total");
  await total.fill("21.65");
  await Promise.all([page.waitForLoadState("load"), total.press("Enter")]);
  await page.waitForSelector("#c-total:has-text('corrected')");
  // The corrected field keeps its box, now marked corrected.
  await page.waitForSelector("g.field-box.corrected[data-field='total'] rect");
  await page.keyboard.press("a"); // approve by keyboard
  await page.waitForURL("**/review");
  await page.waitForSelector("text=Nothing to review");
});

await check("the correction taught the firm about the vendor: vendor memory lists it, and forgetting it empties the list", async () => {
  await page.goto("/review");
  await page.click("text=Vendor memory");
  await page.waitForURL("**/vendor-memories");
  const table = await page.textContent("#vendor-memories");
  // The corrected total (21.65) is printed nowhere on the receipt, so no place is learnt for it;
  // the vendor's name and how it writes dates (03/14/2025: month first) are.
  assert(/CORNER MARKET/i.test(table) && table.includes("month first"), `the memories: ${table}`);
  await accessible(page, "vendor memories");
  await shot(page, "vendor-memories");
  await page.click("#vendor-memories details.confirm summary");
  await Promise.all([page.waitForURL("**/vendor-memories"), page.click("#vendor-memories .confirm-box button[type=submit]")]);
  await page.waitForSelector("text=Nothing learnt yet");
});

await check("the command palette opens with / and finds a client", async () => {
  await page.goto("/");
  await page.keyboard.press("/");
  await page.waitForSelector("dialog#palette[open]");
  await page.keyboard.type("birch");
  await page.locator("#palette-results", { hasText: "Birch Dental" }).waitFor().catch(async (e) => {
    throw new Error(`${e.message}; the palette shows: ${await page.locator("#palette-results").innerText()}`);
  });
  await page.keyboard.press("Escape");
  await page.waitForSelector("dialog#palette:not([open])", { state: "attached" });
  await page.keyboard.press("g");
  await page.keyboard.press("c");
  await page.waitForURL("**/clients");
});

await check("the marketplace searches with facets and opens an advisor", async () => {
  await page.goto("/marketplace");
  await page.waitForSelector("text=Dana Whitfield");
  await accessible(page, "marketplace");
  await shot(page, "marketplace");
  await page.fill("input[name=q]", "forensic");
  await page.locator("#advisors", { hasNotText: "Dana Whitfield" }).waitFor();
  await page.click("text=Ravi Forensics");
  await page.waitForSelector("text=Open client slots");
});

await check("a form without its CSRF token is refused and changes nothing", async () => {
  const r = await page.request.post("/clients/new", { form: { business_name: "Forged Client" }, maxRedirects: 0 });
  assert(r.status() === 403, `status ${r.status()}`);
  const wrong = await page.request.post("/clients/new", { form: { business_name: "Forged Client", _csrf: "not-the-token" }, maxRedirects: 0 });
  assert(wrong.status() === 403, `status with a wrong token ${wrong.status()}`);
  await page.goto("/clients?q=Forged");
  assert(!(await page.textContent("#client-table")).includes("Forged Client"), "the forged client exists");
});

await check("members: an invitation is created and its link opens the accept page, which signs the invitee in", async () => {
  await page.goto("/members");
  await page.waitForSelector("text=Open invitations");
  await accessible(page, "members");
  await page.fill("form[action='/members/invitations'] input[name=email]", "newhire@harbor.test");
  await page.selectOption("form[action='/members/invitations'] select[name=role]", "cpa");
  await page.click("form[action='/members/invitations'] button[type=submit]");
  const link = (await page.textContent("#invitation-link")).trim();
  await shot(page, "members");
  const { context, page: invitee } = await session();
  await invitee.goto(link);
  await invitee.fill("input[name=name]", "New Hire");
  await invitee.fill("input[name=password]", "a long enough password 2026");
  await Promise.all([invitee.waitForURL((u) => u.pathname === "/"), invitee.click("button[type=submit]")]);
  assert((await invitee.textContent(".who")).includes("New Hire"), "the invitee is not signed in");
  await context.close();
  // The owner makes the new member a manager.
  await page.goto("/members");
  const row = page.locator("tr", { hasText: "newhire@harbor.test" });
  await row.locator("select[name=role]").selectOption("manager");
  await Promise.all([page.waitForLoadState("load"), row.locator("button").click()]);
  await page.locator("tr", { hasText: "newhire@harbor.test" }).locator("td:nth-child(3)", { hasText: "manager" }).waitFor();
});

await check("the audit log lists changes and verifies its chain", async () => {
  await page.goto("/audit?entity_type=client");
  await page.waitForSelector("text=client.create");
  await accessible(page, "audit log");
  await page.click("text=Verify the chain");
  await page.waitForSelector("#chain-report");
  assert((await page.textContent("#chain-report")).includes("intact"), await page.textContent("#chain-report"));
  await shot(page, "audit");
});

await check("profile: MFA is set up with an authenticator code, then asked for at sign-in (a recovery code passes); an API key is created once", async () => {
  await page.goto("/profile");
  await accessible(page, "profile");
  await page.click("form[action='/profile/mfa/enrol'] button");
  const secret = (await page.textContent("#mfa-secret")).trim();
  await page.fill("form[action='/profile/mfa/confirm'] input[name=code]", totp(secret));
  await page.click("form[action='/profile/mfa/confirm'] button");
  await page.waitForSelector("#recovery-codes");
  // The code just used may not be used again (replay); sign in with a recovery code instead.
  const recovery = (await page.textContent("#recovery-codes li code")).trim();
  await page.fill("form[action='/profile/api-keys'] input[name=name]", "ledger export");
  await page.click("form[action='/profile/api-keys'] button");
  await page.waitForSelector("#new-key code");
  await shot(page, "profile");
  const { context, page: p } = await session();
  await p.goto("/sign-in");
  await p.fill("input[name=organization]", cfg.firm.slug);
  await p.fill("input[name=email]", cfg.firm.owner);
  await p.fill("input[name=password]", cfg.password);
  await p.click("button[type=submit]");
  await p.waitForSelector("input[name=mfa_code]");
  await p.fill("input[name=password]", cfg.password);
  await p.fill("input[name=mfa_code]", recovery);
  await Promise.all([p.waitForURL((u) => u.pathname === "/"), p.click("button[type=submit]")]);
  await context.close();
});

await check("marketplace: needs are matched with a reason per component; advisors are compared; an advisor edits their profile and availability; the platform admin verifies it", async () => {
  await page.goto("/marketplace");
  await page.waitForSelector("text=Dana Whitfield");
  for (const box of await page.locator("input[name=ids]").all()) await box.check();
  await Promise.all([page.waitForURL("**/marketplace/compare**"), page.click("text=Compare ticked advisors")]);
  await page.waitForSelector("text=Open client slots");
  assert((await page.textContent("main")).includes("Ravi Forensics"), "the comparison lacks an advisor");
  await accessible(page, "compare");
  await shot(page, "marketplace-compare");

  await page.goto("/marketplace/needs");
  await page.selectOption("select[name=business_size]", "smb");
  await page.selectOption("select[name=industry]", "healthcare");
  await page.check("input[name=services_needed][value=fractional_cfo]");
  await accessible(page, "needs assessment");
  await Promise.all([page.waitForURL(/\/marketplace\/needs\/[0-9a-f-]{36}$/), page.click("main form button[type=submit]")]);
  await page.waitForSelector(".score-row");
  const matches = await page.textContent("main");
  assert(matches.includes("Ravi Forensics") && matches.includes("works in healthcare"), "no match with its reasons");
  await accessible(page, "matches");
  await shot(page, "marketplace-matches");
  const made = new URL(page.url()).pathname;
  await page.goto("/marketplace/needs");
  await page.waitForSelector(`section[aria-labelledby=earlier-h] table a[href='${made}']`);

  await page.goto("/marketplace/profile");
  await page.waitForSelector("text=You have no advisor profile yet");
  await page.fill("input[name=display_name]", "Harbor Advisory");
  await page.fill("input[name=title]", "Controller");
  await page.fill("input[name=years_experience]", "8");
  await page.check("input[name=industries][value=retail]");
  await page.check("input[name=services][value=fractional_cfo]");
  await page.fill("input[name=hourly_rate]", "180");
  await page.click("form[action='/marketplace/profile'] button[type=submit]");
  await page.waitForSelector("text=Submit for verification");
  await page.fill("input[name=current_clients]", "3");
  await page.click("form[action='/marketplace/profile/availability'] button[type=submit]");
  await page.waitForSelector("#status-h");
  assert((await page.inputValue("input[name=current_clients]")) === "3", "availability not saved");
  await accessible(page, "advisor profile");
  await shot(page, "marketplace-profile");
  await page.click("text=Submit for verification");
  await page.waitForSelector("text=under review");

  const refused = await page.goto("/marketplace/verification");
  assert(refused.status() === 403, `a firm owner opened the verification queue: ${refused.status()}`);
  const { context, page: admin } = await session({ viewport: { width: 1360, height: 860 } });
  await signIn(admin, cfg.platform.owner, cfg.platform.slug);
  await admin.goto("/marketplace/verification");
  await admin.waitForSelector("text=Harbor Advisory");
  await accessible(admin, "verification queue");
  await shot(admin, "marketplace-verification");
  await Promise.all([admin.waitForURL("**/marketplace/verification"), admin.click("button[aria-label='Approve Harbor Advisory']")]);
  await admin.waitForSelector("text=Nothing to verify");
  await context.close();
  await page.goto("/marketplace/profile");
  await page.waitForSelector("#status-h");
  assert((await page.textContent("#status-h + dl")).includes("active"), "the profile is not active after approval");
});

await check("operations: a firm owner is refused; a platform admin sees the last hour as charts, in light and dark", async () => {
  const refused = await page.goto("/operations");
  assert(refused.status() === 403, `a firm owner got ${refused.status()}`);
  const { context, page: p } = await session({ viewport: { width: 1360, height: 860 } });
  await signIn(p, cfg.platform.owner, cfg.platform.slug);
  assert((await p.locator("nav.sidebar a[href='/operations']").count()) === 1, "Operations is not in the admin's menu");
  await p.goto("/operations");
  await p.waitForSelector("#routes-h");
  await p.waitForSelector("figure.chart svg.plot path.line");
  const text = await p.textContent("main");
  assert(text.includes("GET /v1/marketplace/advisors") || text.includes("/sign-in"), "no route in the table");
  await accessible(p, "operations");
  await shot(p, "operations");
  const { context: darkCtx, page: dark } = await session({ colorScheme: "dark", viewport: { width: 1360, height: 860 }, storageState: await context.storageState() });
  await dark.goto("/operations");
  await dark.waitForSelector("figure.chart svg.plot");
  await accessible(dark, "dark operations");
  await shot(dark, "operations-dark");
  await darkCtx.close();
  await context.close();
});

await check("every page carries a CSP that forbids inline script, and none was violated", async () => {
  const r = await page.request.get("/clients");
  const csp = r.headers()["content-security-policy"] || "";
  assert(csp.includes("script-src 'self'") && !csp.includes("unsafe-inline"), `CSP: ${csp}`);
  assert(page.cspViolations.length === 0, `CSP violations: ${page.cspViolations.join("; ")}`);
});

await check("dark mode renders the main screens", async () => {
  const { context, page: dark } = await session({ colorScheme: "dark", viewport: { width: 1360, height: 860 }, storageState: await ownerCtx.storageState() });
  const screens = [
    ["/", "dashboard"], ["/clients", "clients"], [`/clients/${cfg.clients.first}?tab=documents`, "client-documents"],
    [`/clients/${cfg.clients.first}?tab=invoices`, "client-invoices"], ["/documents", "documents"], ["/review", "review-queue"],
    ["/marketplace", "marketplace"], ["/members", "members"], ["/audit", "audit"], ["/profile", "profile"], ["/quickbooks", "quickbooks-connections"], ["/workflows", "workflows"], ["/team", "team-workload"],
  ];
  for (const [path, name] of screens) {
    await dark.goto(path);
    await dark.waitForSelector("main h1");
    await accessible(dark, `dark ${name}`);
    await shot(dark, `${name}-dark`);
  }
  await context.close();
});

/// The reset link of the newest mail in the outbox to `to` beyond the first `seen`, once it is there.
async function mailedLink(to, seen) {
  const started = Date.now();
  while (Date.now() - started < TIMEOUT) {
    let files = [];
    try { files = readdirSync(cfg.reset.outbox).filter((f) => f.endsWith(".eml")).sort(); } catch { /* not created yet */ }
    const mails = files.map((f) => readFileSync(`${cfg.reset.outbox}/${f}`, "utf8")).filter((m) => m.includes(`To: ${to}`));
    if (mails.length > seen) return mails[mails.length - 1].match(/https?:\/\/\S+\/reset-password\?token=\S+/)[0];
    await new Promise((r) => setTimeout(r, 100)); // polling a directory: the condition is the file
  }
  throw new Error(`no mail to ${to} in ${cfg.reset.outbox}`);
}

await check("forgot password: ask on the sign-in page, open the mailed link, set a new password once, sign in with it; an admin makes a reset link", async () => {
  const { context, page: p } = await session({ viewport: { width: 1360, height: 860 } });
  await p.goto("/sign-in");
  await Promise.all([p.waitForURL("**/forgot-password**"), p.click("#forgot-password")]);
  await p.fill("input[name=organization]", cfg.firm.slug);
  await p.fill("input[name=email]", cfg.reset.email);
  await accessible(p, "forgot password");
  await shot(p, "forgot-password");
  await p.click("button[type=submit]");
  await p.waitForSelector("#reset-requested:has-text('If the address is known, a link is on its way')");
  await accessible(p, "forgot password sent");
  await shot(p, "forgot-password-sent");

  const link = await mailedLink(cfg.reset.email, 0);
  assert(link.startsWith(base), `the link points elsewhere: ${link}`);
  await p.goto(link);
  await p.fill("input[name=password]", "a new passphrase for me");
  await p.fill("input[name=confirm]", "not the same passphrase");
  await p.click("button[type=submit]");
  await p.waitForSelector("#reset-error:has-text('not the same')");
  await p.fill("input[name=password]", "a new passphrase for me");
  await p.fill("input[name=confirm]", "a new passphrase for me");
  await accessible(p, "reset password");
  await shot(p, "reset-password");
  await p.click("button[type=submit]");
  await p.waitForSelector("#reset-done");
  await accessible(p, "reset password done");
  await shot(p, "reset-password-done");

  const again = await p.goto(link);
  assert(again.status() === 404, `a used link answered ${again.status()}`);
  await p.waitForSelector("#reset-dead");
  await accessible(p, "reset link used");
  await shot(p, "reset-password-used");

  await p.goto("/sign-in");
  await p.fill("input[name=organization]", cfg.firm.slug);
  await p.fill("input[name=email]", cfg.reset.email);
  await p.fill("input[name=password]", "a new passphrase for me");
  await Promise.all([p.waitForURL((u) => !u.pathname.startsWith("/sign-in")), p.click("button[type=submit]")]);
  assert(p.cspViolations.length === 0, `CSP violations: ${p.cspViolations.join("; ")}`);
  await context.close();

  // The owner makes a link for the member from the Members page, after a confirm step.
  const o = page; // the owner's session (still signed in: this runs before the sign-out check)
  await o.goto("/members");
  await Promise.all([o.waitForURL(`**/members/${cfg.reset.user}/password-reset`), o.click(`a[href="/members/${cfg.reset.user}/password-reset"]`)]);
  await accessible(o, "reset link confirm");
  await shot(o, "members-reset-confirm");
  await o.click("button:has-text('Create the link')");
  await o.waitForSelector("#reset-link");
  const shown = (await o.textContent("#reset-link")).trim();
  assert(shown.startsWith(`${base}/reset-password?token=chr_`), `the link shown: ${shown}`);
  assert((await mailedLink(cfg.reset.email, 1)) === shown, "the mailed link is not the one shown");
  await accessible(o, "members reset link");
  await shot(o, "members-reset-link");
});

await check("sign-out ends the session: the old cookie no longer opens a page", async () => {
  const state = await ownerCtx.storageState();
  await page.goto("/");
  await Promise.all([page.waitForURL("**/sign-in"), page.click("text=Sign out")]);
  const { context, page: stale } = await session({ storageState: state });
  await stale.goto("/clients");
  assert(new URL(stale.url()).pathname === "/sign-in", `the ended session still opened ${stale.url()}`);
  await context.close();
});

await check("an intern sees no Clients in the menu and is refused the client pages", async () => {
  const { context, page: p } = await session();
  await signIn(p, cfg.intern);
  assert((await p.locator("nav.sidebar a[href='/clients']").count()) === 0, "Clients is in the intern's menu");
  const r = await p.goto("/clients");
  assert(r.status() === 403, `status ${r.status()}`);
  await p.waitForSelector("text=You do not have access to this");
  await accessible(p, "forbidden");
  await context.close();
});

await check("a portal user sees their own client, cannot open another client or another firm's, and has no review queue", async () => {
  const { context, page: p } = await session();
  await signIn(p, cfg.portal);
  await p.waitForURL(`**/clients/${cfg.clients.first}`);
  const tabs = await p.textContent("nav.tabs");
  assert(!tabs.includes("Notes") && !tabs.includes("Portal access"), `portal tabs: ${tabs}`);
  for (const id of [cfg.clients.other, cfg.clients.foreign]) {
    const r = await p.goto(`/clients/${id}`);
    assert(r.status() === 404, `client ${id}: status ${r.status()}`);
  }
  const r = await p.goto("/review");
  assert(r.status() === 403, `review queue: status ${r.status()}`);
  await p.goto(`/clients/${cfg.clients.first}?tab=documents`);
  await p.waitForSelector("text=corner-market-receipt.pdf");
  assert((await p.textContent("main")).indexOf("Why it needs a look") === -1, "review reasons shown to a client");
  await context.close();
});

await check("QuickBooks: connect through the sandbox's consent, sync, see the run finish and the summary; a workflow step that syncs is done when its sync is", async () => {
  const { context, page: p } = await session({ viewport: { width: 1360, height: 860 } });
  await signIn(p, cfg.quickbooks.member);
  // A callback that is refused (here a forged state) lands on a page that says why, not on JSON.
  const refused = await p.goto("/v1/quickbooks/callback?state=forged&code=x&realmId=1");
  assert(refused.status() === 422 && new URL(p.url()).pathname === "/quickbooks/connected", `refused callback: ${refused.status()} at ${p.url()}`);
  await p.waitForSelector(".alert.error:has-text('already used or had expired')");
  await accessible(p, "refused QuickBooks callback");
  await p.goto("/quickbooks");
  await p.waitForSelector("text=No QuickBooks connections");
  const tab = `/clients/${cfg.quickbooks.client}?tab=quickbooks`;
  await p.goto(tab);
  await p.waitForSelector("nav.tabs a[aria-current=page]:has-text('QuickBooks')");
  // Out to "Intuit" (the sandbox consents at once), back through the API's callback, and on to this tab.
  await p.click("button:has-text('Connect QuickBooks')");
  await p.waitForSelector("#qbo-connection-h");
  assert(p.url().endsWith(tab), `after connecting: ${p.url()}`);
  // The first full sync was queued with the connection; the tab follows it until it finishes.
  const newest = "#qbo-runs tbody tr:first-child";
  await p.waitForSelector(`${newest} .badge:has-text('succeeded')`);
  await p.selectOption("select[name=mode]", "full");
  await Promise.all([p.waitForURL((u) => u.href.endsWith(tab)), p.click("button:has-text('Sync now')")]);
  await p.waitForSelector("#qbo-runs tbody tr:nth-child(2)");
  await p.waitForSelector(`${newest} .badge:has-text('succeeded')`);
  const row = await p.textContent(newest);
  assert(/full/.test(row) && /manual/.test(row), `the newest run: ${row}`);
  const calls = Number((await p.textContent(`${newest} td:nth-child(6)`)).trim());
  assert(calls > 0, `API calls of the run: ${calls}`);
  const summary = await p.textContent("#qbo-summary");
  assert(/Income/.test(summary) && /USD (?!0\.00)[\d,]+\.\d\d/.test(summary), `the summary shows no amounts: ${summary}`);
  await accessible(p, "quickbooks");
  await shot(p, "quickbooks");
  await p.goto("/quickbooks");
  await p.waitForSelector("table.data .badge:has-text('connected')");
  await accessible(p, "quickbooks connections");
  await shot(p, "quickbooks-connections");
  // A workflow step that syncs is done when its sync has finished, not when it was queued.
  await p.goto(`/clients/${cfg.quickbooks.client}?tab=workflows`);
  await p.selectOption("select[name=template_id]", cfg.quickbooks.template);
  await p.fill("input[name=due_date]", "2099-06-30");
  await Promise.all([p.waitForURL(/\/workflows\/runs\/[0-9a-f-]{36}$/), p.click("button:has-text('Start')")]);
  const syncRun = p.url();
  const syncStep = "main table tbody tr:has-text('Sync QuickBooks')";
  await reloadUntil(p, syncRun, `${syncStep} .badge:has-text('done')`);
  await p.waitForSelector(`${syncStep} .outcome a:has-text('sync run')`);
  await shot(p, "workflow-run-sync");
  await p.goto(tab);
  await p.waitForSelector(`${newest} .badge:has-text('succeeded')`);
  assert(/incremental/.test(await p.textContent(newest)), "the step's sync is the newest run");
  // Disconnecting asks first: the first press only opens the warning.
  await p.click("summary:has-text('Disconnect')");
  await p.waitForSelector(".confirm-box button:has-text('Disconnect')");
  assert(await p.isVisible("text=Sync now"), "opening the warning changed nothing yet");
  await Promise.all([p.waitForURL((u) => u.href.endsWith(tab)), p.click(".confirm-box button:has-text('Disconnect')")]);
  await p.waitForSelector("text=Not connected to QuickBooks");
  assert(p.cspViolations.length === 0, `CSP violations: ${p.cspViolations.join("; ")}`);
  await context.close();
});

await browser.close();
const failed = results.filter((r) => !r.ok);
console.log(failed.length === 0 ? `all checks passed (${results.length})` : `${failed.length} of ${results.length} checks failed`);
process.exit(failed.length === 0 ? 0 : 1);
