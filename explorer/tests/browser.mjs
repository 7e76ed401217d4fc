// Browser tests of the explorer against a real local network: `tally localnet` (four
// validator processes), transactions submitted with the `tally` CLI, and the page driven in
// headless Chromium (Debian's, through playwright-core). Screenshots are kept in the
// folder printed at the start (CI keeps it as an artifact).
//
//   node tests/browser.mjs
//
// Environment: TALLY_BIN (default ../target/debug/tally), CHROMIUM (default
// /usr/bin/chromium), EXPLORER_SCREENSHOTS (default ../target/explorer-screenshots),
// EXPLORER_BASE_PORT (default 27400). Nothing is timed: waits have generous limits and
// only the outcome is asserted.

import { chromium } from "playwright-core";
import { bls12_381 } from "@noble/curves/bls12-381.js";
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "..", "..");
const TALLY = process.env.TALLY_BIN ?? join(repo, "target", "debug", "tally");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = resolve(process.env.EXPLORER_SCREENSHOTS ?? join(repo, "target", "explorer-screenshots"));
const BASE_PORT = Number(process.env.EXPLORER_BASE_PORT ?? 27400);
const WAIT = 90_000;

const work = mkdtempSync(join(tmpdir(), "tally-explorer-"));
const env = { ...process.env, TALLY_HOME: join(work, "home"), RUST_LOG: "warn" };
let localnet = null;
let browser = null;
const results = [];

function log(s) {
  process.stderr.write(`${s}\n`);
}

/** Runs the tally CLI; returns stdout and the exit code (3: final but rejected). */
function tally(args) {
  try {
    return { out: execFileSync(TALLY, args, { env, encoding: "utf8", timeout: 120_000 }), code: 0 };
  } catch (e) {
    if (typeof e.status === "number") return { out: String(e.stdout ?? ""), err: String(e.stderr ?? ""), code: e.status };
    throw e;
  }
}

function txId(out) {
  const m = /"tx_id"\s*:\s*"([0-9a-f]{64})"/.exec(out);
  assert.ok(m, `no transaction id in ${out}`);
  return m[1];
}

/** Starts `tally localnet` and returns the explorer URL and the first API it prints. */
async function startLocalnet() {
  localnet = spawn(
    TALLY,
    ["localnet", "--fresh", "--home", join(work, "net"), "--base-port", String(BASE_PORT)],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  localnet.stderr.on("data", (d) => (err += d));
  return await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`localnet did not start:\n${out}\n${err}`)), 180_000);
    localnet.on("exit", (code) => fail(new Error(`localnet exited (${code}):\n${out}\n${err}`)));
    localnet.stdout.on("data", (d) => {
      out += d;
      if (out.includes("press Ctrl-C to stop")) {
        clearTimeout(timer);
        const explorer = /explorer: (http:\/\/\S+\/explorer\/)/.exec(out);
        const api = /validator-0\s+api (http:\/\/\S+)/.exec(out);
        if (!explorer || !api) fail(new Error(`localnet printed no explorer URL:\n${out}`));
        else ok({ explorer: explorer[1], api: api[1], printed: out });
      }
    });
  });
}

async function check(name, f) {
  const started = Date.now();
  try {
    await f();
    results.push({ name, ok: true });
    log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    results.push({ name, ok: false });
    log(`FAIL ${name}: ${e.stack ?? e}`);
  }
}

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signInAs(page, name) {
  if (await page.locator("#sign-out").count()) await page.click("#sign-out");
  await page.click("#dev-menu summary");
  await page.click(`[data-dev-key="${name}"]`);
  await page.waitForSelector("#signed-in-as", { timeout: WAIT });
}

async function main() {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  log(`explorer browser tests: screenshots in ${SHOTS}`);
  assert.ok(existsSync(TALLY), `no tally binary at ${TALLY} (cargo build -p tally-cli)`);
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);

  const net = await startLocalnet();
  log(`localnet up; explorer at ${net.explorer}`);
  const origin = new URL(net.explorer).origin;
  const cli = (who, ...args) => tally(["--api", net.api, "--key", who, "--output", "json", ...args]);
  const apiGet = async (path) => {
    const r = await fetch(net.api + path);
    assert.equal(r.status, 200, `GET ${path}: ${r.status}`);
    return r.json();
  };

  browser = await chromium.launchPersistentContext(join(work, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = browser.pages()[0] ?? (await browser.newPage());
  const foreign = [];
  const pageErrors = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(origin)) foreign.push(r.url());
  });
  page.on("pageerror", (e) => pageErrors.push(String(e)));

  await check("the URL tally localnet prints opens the explorer", async () => {
    assert.match(net.printed, /explorer: http:\/\/127\.0\.0\.1:\d+\/explorer\//);
    await page.goto(net.explorer);
    await page.waitForSelector("#net-height", { timeout: WAIT });
    assert.equal(await page.title(), "Tally explorer");
  });

  await check("the network view shows finalized heights increasing", async () => {
    await page.waitForFunction(() => Number(document.querySelector("#net-height")?.textContent) > 0, null, { timeout: WAIT });
    const first = Number(await page.textContent("#net-height"));
    await page.waitForFunction((h) => Number(document.querySelector("#net-height")?.textContent) > h + 2, first, { timeout: WAIT });
    await page.waitForFunction(() => /\d/.test(document.querySelector("#net-block-rate")?.textContent ?? ""), null, { timeout: WAIT });
    assert.equal(await page.locator("#validators tbody tr").count(), 4);
    assert.equal(await page.locator("#validators tbody tr", { hasText: "serving this page" }).count(), 1);
    assert.match(await page.textContent("#net-latency"), /\d+ ms/);
    await shot(page, "01-network");
  });

  await check("the block list updates live", async () => {
    await page.goto(`${net.explorer}#/blocks`);
    await page.waitForSelector("#recent-blocks tbody tr", { timeout: WAIT });
    const top = Number(await page.textContent("#recent-blocks tbody tr td"));
    await page.waitForFunction(
      (h) => Number(document.querySelector("#recent-blocks tbody tr td")?.textContent) > h,
      top,
      { timeout: WAIT },
    );
    await shot(page, "01b-blocks");
  });

  let dvp = "";
  let dvpHeight = 0;
  await check("a DvP submitted through the CLI appears with both legs", async () => {
    const r = cli("dealer-a", "settle", "--leg", "300:400:US91282CJL63:250000", "--leg", "400:300:1:248750", "--approver", "dealer-b");
    assert.equal(r.code, 0, `tally settle failed: ${r.out} ${r.err ?? ""}`);
    dvp = txId(r.out);
    dvpHeight = JSON.parse(r.out).height;
    await signInAs(page, "dealer-a");
    await page.goto(`${net.explorer}#/tx/${dvp}`);
    await page.waitForSelector('.op[data-op="Settle"] table.legs', { timeout: WAIT });
    const legs = page.locator('.op[data-op="Settle"] table.legs tbody tr');
    assert.equal(await legs.count(), 2);
    const text = (await legs.allTextContents()).join(" | ");
    assert.match(text, /account 300.*account 400.*250,000\.00.*UST/);
    assert.match(text, /account 400.*account 300.*248,750\.00.*USD/);
    assert.match(await page.textContent(".op[data-op=Settle] h3"), /delivery versus payment/);
    assert.equal(await page.locator("#tx-events tbody tr").count(), 2);
    assert.match(await page.textContent("#tx-code"), /Ok \(0\)/);
    await page.waitForSelector("#cert-status.ok", { timeout: WAIT });
    await page.waitForSelector("#receipt-status.ok", { timeout: WAIT });
    assert.match(await page.textContent("#receipt-status"), new RegExp(`receipt verified.*final at height ${dvpHeight}, position \\d+, result code 0`));
    await shot(page, "02-dvp");
  });

  await check("an institution batch shows each transfer's result", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-batch-"));
    const file = join(dir, "batch.txt");
    writeFileSync(file, "300:400:1:1.00\n300:400:1:1000000000.00\n");
    const r = cli("dealer-a", "transfer-batch", "--file", file);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 0, `tally transfer-batch failed: ${r.out} ${r.err ?? ""}`);
    await page.goto(`${net.explorer}#/tx/${txId(r.out)}`);
    await page.waitForSelector("#tx-batch", { timeout: WAIT });
    assert.match(await page.textContent("#tx-batch"), /1 of 2 transfers applied/);
    assert.match(await page.textContent("#tx-batch-failures"), /#1\s*InsufficientBalance \(500\)/);
    assert.match(await page.textContent('.op[data-op="TransferBatch"]'), /institution batch of 2 transfers/);
    await shot(page, "02b-batch");
  });

  let rejected = "";
  await check("a rejected transfer shows the compliance rule that failed", async () => {
    const freeze = cli("regulator", "account", "freeze", "500", "--reason", "7");
    assert.equal(freeze.code, 0, `freeze failed: ${freeze.out} ${freeze.err ?? ""}`);
    const r = cli("dealer-a", "transfer", "--from", "300", "--to", "500", "--instrument", "1", "--amount", "100.00");
    assert.equal(r.code, 3, `the transfer should be final but rejected: ${r.out} ${r.err ?? ""}`);
    rejected = txId(r.out);
    await page.goto(`${net.explorer}#/tx/${rejected}`);
    await page.waitForSelector("#tx-rule", { timeout: WAIT });
    assert.match(await page.textContent("#tx-rule"), /Compliance rule failed: AccountFrozen/);
    assert.match(await page.textContent("#tx-code"), /AccountFrozen \(608\)/);
    assert.equal(await page.locator(".op.failed").count(), 1);
    await page.waitForSelector("#receipt-status.ok", { timeout: WAIT });
    assert.match(await page.textContent("#receipt-status"), /result code 608 \(operation 0 failed\)/);
    await shot(page, "03-rejected");
  });

  await check("the search box finds an ISIN (and a CUSIP, a transaction, an LEI, a height, an account)", async () => {
    await page.fill("#q", "US91282CJL63");
    await page.press("#q", "Enter");
    await page.waitForSelector("#instrument-ids", { timeout: WAIT });
    assert.match(await page.textContent("#instrument-ids"), /ISIN US91282CJL63/);
    assert.match(await page.textContent("h1"), /UST 4\.125%/);
    // The payment dates are the ledger's (GET /instrument/2/servicing): the remaining
    // semiannual dates of the 4.125% note, the last one 15-Nov-2034 with the principal.
    const servicing = await apiGet("/instrument/US91282CJL63/servicing");
    assert.ok(servicing.schedule.length > 0 && servicing.schedule.length <= 20, JSON.stringify(servicing));
    await page.waitForSelector("#payment-schedule", { timeout: WAIT });
    const dates = await page.locator("#payment-schedule tbody tr td:nth-child(2)").allTextContents();
    assert.deepEqual(dates, servicing.schedule);
    assert.equal(dates.at(-1), "2034-11-15");
    assert.match(await page.textContent("#payment-schedule tbody tr:last-child"), /last coupon \+ principal at par/);
    assert.match(await page.textContent("#next-event"), new RegExp(`^${servicing.schedule[0]}: coupon \\(2\\.0625% of face`));
    assert.match(await page.textContent("#book-closed"), /^open$/);
    assert.match(await page.textContent("#strips-none"), /Not enabled/);
    await shot(page, "04-instrument-by-isin");
    await page.fill("#q", "91282CJL6");
    await page.press("#q", "Enter");
    await page.waitForFunction(() => location.hash === "#/instrument/2", null, { timeout: WAIT });
    await page.fill("#q", dvp);
    await page.press("#q", "Enter");
    await page.waitForFunction((id) => location.hash === `#/tx/${id}`, dvp, { timeout: WAIT });
    await page.fill("#q", "TALLYDB0000000000D85");
    await page.press("#q", "Enter");
    await page.waitForSelector("#participant-lei", { timeout: WAIT });
    assert.match(await page.textContent("h1"), /Beta Capital Markets/);
    await page.fill("#q", String(dvpHeight));
    await page.press("#q", "Enter");
    // No account has that number: the block is the one match, and it opens.
    await page.waitForFunction((h) => location.hash === `#/block/${h}`, dvpHeight, { timeout: WAIT });
    // 300 is no height yet but dealer A's account, visible to dealer A: it opens.
    await page.fill("#q", "300");
    await page.press("#q", "Enter");
    await page.waitForSelector('table.holdings[data-account="300"]', { timeout: WAIT });
    // A name matching several participants lists them.
    await page.fill("#q", "Demo");
    await page.press("#q", "Enter");
    await page.waitForSelector("#search-results", { timeout: WAIT });
    const found = (await page.locator("#search-results li").allTextContents()).join(" | ");
    assert.match(found, /Demo Central Bank.*Demo Treasury/);
    await page.fill("#q", "nothing-like-this");
    await page.press("#q", "Enter");
    await page.waitForSelector("text=Nothing found", { timeout: WAIT });
  });

  await check("participant A cannot see B's holdings; the regulator can", async () => {
    await signInAs(page, "dealer-a");
    await page.goto(`${net.explorer}#/account/400`);
    await page.waitForSelector("#account-refused", { timeout: WAIT });
    assert.match(await page.textContent("#account-refused"), /Not visible to you/);
    assert.equal(await page.locator("table.holdings").count(), 0);
    await shot(page, "05-dealer-a-refused");
    await page.goto(`${net.explorer}#/accounts`);
    await page.waitForSelector("#accounts .participant", { timeout: WAIT });
    assert.equal(await page.locator("#accounts .participant").count(), 1);
    assert.equal(await page.locator('table.holdings[data-account="300"]').count(), 1);

    await signInAs(page, "regulator");
    await page.goto(`${net.explorer}#/account/400`);
    await page.waitForSelector('table.holdings[data-account="400"]', { timeout: WAIT });
    assert.match(await page.textContent('[data-balance="400/2"]'), /^250,000\.00$/);
    await shot(page, "06-regulator-sees-400");
    await page.goto(`${net.explorer}#/accounts`);
    await page.waitForFunction(() => document.querySelectorAll("#accounts .participant").length >= 6, null, { timeout: WAIT });
  });

  await check("the certificate and a balance's Merkle proof verify in the browser", async () => {
    await page.goto(`${net.explorer}#/block/${dvpHeight}`);
    await page.waitForSelector("#cert-status.ok", { timeout: WAIT });
    assert.match(await page.textContent("#cert-status"), /certificate verified/);
    await shot(page, "07-block-verified");
    await page.goto(`${net.explorer}#/account/400`);
    await page.click('[data-proof="400/2"]');
    await page.waitForSelector(".proof.ok", { timeout: WAIT });
    assert.match(await page.textContent(".proof.ok"), /proof verified: balance 250,000\.00/);
    await page.click('[data-proof="400/1"]');
    await page.waitForFunction(() => document.querySelectorAll(".proof.ok").length === 2, null, { timeout: WAIT });
    await shot(page, "08-proof-verified");
  });

  await check("under another group key the certificate does not verify", async () => {
    // A valid G2 point that is not the network's key: the generator.
    const other = bls12_381.G2.Point.BASE.toHex(true);
    await page.goto(`${net.explorer}#/verify`);
    await page.fill("#pin-input", other);
    await page.click("text=pin this key");
    await page.waitForSelector("#cert-status.bad", { timeout: WAIT });
    assert.match(await page.textContent("#cert-status"), /NOT verified/);
    await shot(page, "09-wrong-key-refused");
    await page.click("text=pin the key this node serves");
    await page.waitForSelector("#cert-status.ok", { timeout: WAIT });
  });

  await check("a bill auction run through the CLI: result, bids as each reader may see them, the bill's servicing", async () => {
    // The custodian bids too: unfrozen (an earlier check froze it) and, like the central
    // bank, given cash. A 13-week bill issued today (the chain's date), $100 increments.
    const ok = (r, what) => assert.equal(r.code, 0, `${what}: ${r.out} ${r.err ?? ""}`);
    ok(cli("regulator", "account", "unfreeze", "500"), "unfreeze 500");
    ok(cli("central-bank", "mint", "--instrument", "1", "--to", "100", "--amount", "1000000.00"), "mint to 100");
    ok(cli("central-bank", "mint", "--instrument", "1", "--to", "500", "--amount", "1000000.00"), "mint to 500");
    const keys = (await apiGet("/dev/keys")).keys;
    const lei = (name) => keys.find((k) => k.name === name).lei;
    const today = new Date((await apiGet("/status")).finalized_time_ms);
    const day = (d) => d.toISOString().slice(0, 10);
    const issue = day(today);
    const maturity = day(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() + 91)));
    const bill = join(work, "bill.json");
    writeFileSync(
      bill,
      JSON.stringify({
        id: 60,
        issuer: lei("treasury"),
        name: "UST 13-week bill",
        scale: 0,
        min_increment: "100",
        kind: { type: "treasury_bill", issue_date: issue, maturity_date: maturity },
        policy: { kyc_required: true },
      }),
    );
    ok(cli("treasury", "auction", "announce", "--id", "1", "--new", bill, "--offering", "1000000", "--close-in-secs", "12", "--cash", "1", "--account", "200"), "announce");
    // Cap 35% = $350,000 a bidder; noncompetitive $100,000; competitive at 4.200% and 4.250%.
    ok(cli("central-bank", "auction", "bid", "1", "--account", "100", "--amount", "100000"), "central bank's bid");
    const dealerBid = cli("dealer-a", "auction", "bid", "1", "--account", "300", "--amount", "350000", "--rate", "4.200");
    ok(dealerBid, "dealer A's bid");
    ok(cli("dealer-b", "auction", "bid", "1", "--account", "400", "--amount", "350000", "--rate", "4.250"), "dealer B's bid");
    ok(cli("custodian", "auction", "bid", "1", "--account", "500", "--amount", "300000", "--rate", "4.250"), "custodian's bid");

    // Not signed in. The ledger closes the auction at its time and issues at once (issue
    // date today); the auction page, opened now, follows it as blocks arrive.
    if (await page.locator("#sign-out").count()) await page.click("#sign-out");
    const auction = '.auction[data-auction="1"]';
    await page.goto(`${net.explorer}#/auction/1`);
    await page.waitForSelector(auction, { timeout: WAIT });
    const first = await page.getAttribute(auction, "data-status");
    if (first === "open") await shot(page, "10a-auction-open");
    await page.waitForSelector(`${auction}[data-status="issued"]`, { timeout: 120_000 });
    log(`     the auction page went from ${first} to issued by itself`);
    const a = await apiGet("/auction/1");
    assert.equal(a.status, "issued");
    const r = a.result;
    assert.ok(r && r.stop_out && r.allotment_pct && r.price, JSON.stringify(a));

    // The list, then the auction: the public result, and a note instead of bids.
    await page.goto(`${net.explorer}#/auctions`);
    await page.waitForSelector("#auctions tbody tr", { timeout: WAIT });
    const listed = await page.textContent("#auctions tbody tr");
    assert.match(listed, /Auction 1.*UST 13-week bill.*issued/);
    assert.ok(listed.includes(r.stop_out) && listed.includes(r.price), listed);
    await shot(page, "10-auctions");
    await page.click("#auctions tbody tr a[href='#/auction/1']");
    await page.waitForSelector(`${auction}[data-status="issued"]`, { timeout: WAIT });
    const shown = async (f) => (await page.textContent(`${auction} [data-field="${f}"]`)).trim();
    assert.equal(await shown("stop_out"), r.stop_out);
    assert.equal(await shown("allotment_pct"), `${r.allotment_pct}%`);
    assert.equal(await shown("price"), r.price);
    assert.equal(await shown("issued"), Number(r.issued).toLocaleString("en-US"));
    await page.waitForSelector(`${auction} .bids-signin`, { timeout: WAIT });
    assert.equal(await page.locator(`${auction} table.bids`).count(), 0);

    // Dealer A sees its own bid only (what the API answers it), the regulator all four.
    const ownBids = JSON.parse(cli("dealer-a", "auction", "bids", "1").out).bids;
    assert.equal(ownBids.length, 1);
    await signInAs(page, "dealer-a");
    await page.goto(`${net.explorer}#/auction/1`);
    await page.waitForSelector(`${auction} table.bids tbody tr`, { timeout: WAIT });
    const mine = await page.locator(`${auction} table.bids tbody tr`).allTextContents();
    assert.equal(mine.length, ownBids.length);
    assert.match(mine[0], /Alpha Securities LLC.*account 300.*competitive.*4\.2%.*350,000/);
    assert.equal(await page.locator(`${auction} table.bids`, { hasText: "Beta Capital" }).count(), 0);
    assert.match(await page.textContent(`${auction} .bids-scope`), /its own bids only/);
    await shot(page, "11-auction-dealer-a");

    const allBids = JSON.parse(cli("regulator", "auction", "bids", "1").out).bids;
    assert.equal(allBids.length, 4);
    await signInAs(page, "regulator");
    await page.goto(`${net.explorer}#/auction/1`);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 4, `${auction} table.bids tbody tr`, { timeout: WAIT });
    const every = (await page.locator(`${auction} table.bids tbody tr`).allTextContents()).join(" | ");
    for (const who of ["Demo Central Bank", "Alpha Securities LLC", "Beta Capital Markets", "Gamma Custody"]) assert.ok(every.includes(who), `${who} in ${every}`);
    assert.match(every, /noncompetitive/);
    // The awards the API reports, bid by bid.
    for (const b of allBids) {
      assert.equal((await page.textContent(`${auction} [data-award="${b.seq}"]`)).trim(), Number(b.award).toLocaleString("en-US"));
    }
    assert.match(await page.textContent(`${auction} .bids-scope`), /sees every bid/);
    await shot(page, "12-auction-regulator");

    // The bill's page: redemption date from the ledger's servicing, and its auction.
    const s = await apiGet("/instrument/60/servicing");
    assert.deepEqual(s.schedule, [maturity]);
    await page.click(`${auction} a[href='#/instrument/60']`);
    await page.waitForSelector("#payment-schedule tbody tr", { timeout: WAIT });
    assert.match(await page.textContent("#payment-schedule tbody tr"), new RegExp(`^1${maturity}principal at par$`));
    assert.equal(await page.textContent("#next-event"), `${maturity}: redemption at par`);
    assert.equal(await page.textContent("#instrument-supply"), Number(r.issued).toLocaleString("en-US"));
    assert.equal((await page.textContent(`#instrument-auctions ${auction} [data-field="stop_out"]`)).trim(), r.stop_out);
    await shot(page, "13-bill");

    // Dealer A's bid reads as a bid; the issue reached its account at a block's start.
    await signInAs(page, "dealer-a");
    await page.goto(`${net.explorer}#/tx/${txId(dealerBid.out)}`);
    await page.waitForSelector('.op[data-op="SubmitBid"] .op-summary', { timeout: WAIT });
    assert.match(await page.textContent('.op[data-op="SubmitBid"] .op-summary'), /^A competitive bid at 4\.2% for 350,000 of par in auction 1, from account 300/);
    assert.match(await page.textContent("#tx-events"), /bid #\d+ in auction 1 by Alpha Securities LLC/);
    await shot(page, "14-bid");
    await page.goto(`${net.explorer}#/account/300`);
    await page.waitForSelector("table.history", { timeout: WAIT });
    const history = await page.locator("table.history tbody tr", { hasText: "at block start" }).allTextContents();
    assert.ok(history.some((t) => /auction issue.*in\+350,000 UST 13-week bill/.test(t)), history.join(" | "));
    await shot(page, "15-history");
  });

  await check("the page made no request to any other origin, and threw nothing", async () => {
    assert.deepEqual(foreign, []);
    assert.deepEqual(pageErrors, []);
  });
}

async function shutdown(keep) {
  await browser?.close().catch(() => undefined);
  if (localnet && localnet.exitCode === null) {
    localnet.kill("SIGTERM");
    await new Promise((r) => {
      const t = setTimeout(() => {
        localnet.kill("SIGKILL");
        r();
      }, 20_000);
      localnet.on("exit", () => {
        clearTimeout(t);
        r();
      });
    });
  }
  if (keep) log(`node homes and logs kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

let failed = 0;
try {
  await main();
} catch (e) {
  log(`FAIL setup: ${e.stack ?? e}`);
  results.push({ name: "setup", ok: false });
} finally {
  await shutdown(results.some((r) => !r.ok));
  const passed = results.filter((r) => r.ok).length;
  failed = results.length - passed;
  log(`screenshots: ${SHOTS}`);
  console.log(`${passed} passed, ${failed} failed`);
}
process.exit(failed === 0 && results.length > 0 ? 0 : 1);
