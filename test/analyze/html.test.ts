// The HTML report in a real browser (Debian chromium driven by playwright-core): it renders without a
// console error, makes no network request, and selecting a layer filters the treemap and the files.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { analyze } from "../../src/analyze/analyze.js";
import { writeHtmlReport } from "../../src/report/html.js";
import { needs, repoRoot } from "../helpers/env.js";
import { buildWasteImage } from "./images.js";

const CHROMIUM = "/usr/bin/chromium";

test("analyze --html in headless Chromium: no console errors, no requests, layer selection filters the tree", {
  skip: needs({ tools: [CHROMIUM, "tar"], fixtures: ["go-static"] }),
  timeout: 120_000,
}, async (t) => {
  const { chromium } = await import("playwright-core");
  const work = mkdtempSync(join(tmpdir(), "zerodep-analyze-html-"));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const img = await buildWasteImage(work);
  const r = await analyze(img.ref, { tree: true });
  const file = join(work, "report.html");
  await writeHtmlReport(r, file);
  const url = pathToFileURL(file).href;

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
  const errors: string[] = [];
  const requests: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") errors.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("request", (q) => {
    if (q.url() !== url) requests.push(q.url());
  });
  await page.goto(url, { waitUntil: "load" });

  // The big file of the last layer is a leaf at the top level; clicking the small /bin zooms into it.
  const layersShown = await page.$$eval("#treemap .cell[data-layer]", (els) => [
    ...new Set(els.map((e) => e.getAttribute("data-layer"))),
  ]);
  assert.ok(layersShown.includes("2"), `layers shown: ${layersShown}`);
  await page.$eval('#treemap .cell[data-path="/bin"]', (e) => (e as unknown as { click(): void }).click());
  assert.deepEqual(
    await page.$$eval("#treemap .cell", (els) =>
      els.map((e) => `${e.getAttribute("data-path")} ${e.getAttribute("data-layer")}`),
    ),
    ["/bin/sh 0"],
  );
  await page.click("#crumbs a");
  assert.equal(await page.locator("#layers tbody tr").count(), 3);
  assert.match((await page.textContent("#findings")) ?? "", /SETUID_FILES/);
  assert.match((await page.textContent("#go")) ?? "", /\/app\/hello/);
  const goCells = await page.locator("#go .cell").count();
  assert.ok(goCells > 5, `Go package treemap has ${goCells} cells`);

  // Select layer 2: only its files remain in the treemap and in the file table.
  await page.click('#layers tbody tr[data-layer="2"]');
  assert.equal(await page.getAttribute("body", "data-selected-layer"), "2");
  const after = await page.$$eval("#treemap .cell[data-layer]", (els) =>
    els.map((e) => e.getAttribute("data-layer")),
  );
  assert.ok(after.length > 0);
  assert.deepEqual([...new Set(after)], ["2"]);
  const rows = await page.$$eval("#files tbody tr", (els) => els.map((e) => e.getAttribute("data-layer")));
  assert.deepEqual([...new Set(rows)], ["2"]);
  const paths = await page.$$eval("#files tbody td.p", (els) => els.map((e) => e.textContent));
  assert.deepEqual(paths, ["/app/hello", "/opt/data/three"]);
  // Sorting by size ascending flips the order; the filter box narrows it.
  await page.click('#files th[data-k="size"]');
  await page.click('#files th[data-k="size"]');
  assert.deepEqual(await page.$$eval("#files tbody td.p", (els) => els.map((e) => e.textContent)), [
    "/opt/data/three",
    "/app/hello",
  ]);
  await page.fill("#file-filter", "hello");
  assert.deepEqual(await page.$$eval("#files tbody td.p", (els) => els.map((e) => e.textContent)), [
    "/app/hello",
  ]);
  // Back to every layer.
  await page.fill("#file-filter", "");
  await page.click("#all-layers");
  assert.equal(await page.getAttribute("body", "data-selected-layer"), "all");

  const shot = join(work, "report.png");
  await page.screenshot({ path: shot, fullPage: false });
  assert.ok(statSync(shot).size > 10_000);
  if (process.env["ZERODEP_DOCS_SCREENSHOT"] === "1") {
    mkdirSync(join(repoRoot, "docs"), { recursive: true });
    copyFileSync(shot, join(repoRoot, "docs", "analyze-report.png"));
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(requests, []);
});
