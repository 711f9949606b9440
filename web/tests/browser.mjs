#!/usr/bin/env node
// End-to-end test of the web map in headless Chromium (Debian's `chromium`, driven by
// playwright-core; no browser download).
//
//   node web/tests/browser.mjs <base-url> <screenshot.png>
//
// <base-url> is a running `liancun serve` (the page is at <base-url>/map/) or the Vite dev server
// (`npm run dev`, which also serves the page at /map/). CHROMIUM_PATH overrides /usr/bin/chromium.
// Prints each step; exits 1 with a message on the first failure, on any uncaught page exception or
// console error, 2 on bad arguments.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const [baseArg, shotArg] = process.argv.slice(2);
if (!baseArg || !shotArg) {
  console.error('usage: node web/tests/browser.mjs <base-url> <screenshot.png>');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const pageUrl = `${base}/map/`;
const shotPath = resolve(shotArg);

// WebGL in headless Chromium: ANGLE on SwiftShader (software Vulkan). Chromium 156 falls back to
// it by itself when there is no GPU, but the fallback is deprecated upstream, so ask for it
// explicitly; --enable-unsafe-swiftshader keeps WebGL allowed on the software renderer.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-sync',
  '--no-first-run',
  '--mute-audio',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
];

let passed = 0;
const t0 = Date.now();
const log = (msg) => console.log(`[browser ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
class Failure extends Error {}
const fail = (msg) => {
  throw new Failure(msg);
};
const ok = (msg) => {
  passed += 1;
  log(`ok   ${msg}`);
};

const problems = []; // console errors and uncaught exceptions
let browser;

async function waitFor(page, fn, arg, timeout, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch {
    fail(`timed out after ${timeout / 1000} s waiting for ${what}`);
  }
}

/** Resolves once the map is idle (no camera movement, tiles loaded). */
function mapSettled(page) {
  return page.evaluate(
    () =>
      new Promise((res) => {
        const m = window.__liancun.map;
        const done = () => requestAnimationFrame(() => res());
        if (!m.isMoving() && m.loaded() && m.areTilesLoaded()) done();
        else m.once('idle', done);
        setTimeout(res, 15000);
      }),
  );
}

async function panelText(page, testid) {
  return page.locator(`[data-testid="${testid}"]`).first().textContent({ timeout: 5000 });
}

async function run() {
  log(`Chromium ${process.env.CHROMIUM_PATH || '/usr/bin/chromium'}, page ${pageUrl}`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'zh-CN' });
  page.setDefaultTimeout(20000);

  page.on('pageerror', (e) => {
    problems.push(`uncaught exception: ${e.message}`);
    log(`!! uncaught exception: ${e.message}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url ?? '';
    // A workspace may lack a layer: its TileJSON answers 404 and the page skips it on purpose.
    if (/Failed to load resource.*404/.test(m.text()) && /\/tiles\/[^/]+$/.test(where)) return;
    problems.push(`console error: ${m.text()}${where ? ` (${where})` : ''}`);
    log(`!! console error: ${m.text()} ${where}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 500) {
      problems.push(`HTTP ${r.status()} from ${r.url()}`);
      log(`!! HTTP ${r.status()} ${r.url()}`);
    }
  });
  page.on('requestfailed', (r) => {
    const err = r.failure()?.errorText ?? '';
    if (!/ERR_ABORTED/.test(err)) log(`!! request failed: ${r.url()} ${err}`);
  });

  // 1. The page loads and the village tiles render.
  const resp = await page.goto(pageUrl, { waitUntil: 'domcontentloaded', timeout: 30000 });
  if (!resp || !resp.ok()) fail(`GET ${pageUrl} answered ${resp ? resp.status() : 'nothing'}`);
  ok(`page loaded (HTTP ${resp.status()})`);

  const webgl = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : 'webgl2';
  });
  if (!webgl) fail('no WebGL2 in this Chromium: MapLibre cannot render');
  log(`WebGL renderer: ${webgl}`);

  await waitFor(page, () => window.__liancun && window.__liancun.ready === true, null, 60000, 'window.__liancun.ready (villages tiles rendered)');
  const rendered = await page.evaluate(() => {
    const { map, villageFillLayer } = window.__liancun;
    return map.queryRenderedFeatures({ layers: [villageFillLayer] }).length;
  });
  if (!(rendered > 0)) fail(`the villages layer rendered no features (${rendered})`);
  ok(`map ready, ${rendered} village features rendered`);

  // 2. Search a village and open its panel.
  const list = await page.evaluate(async () => {
    const r = await fetch('/villages');
    if (!r.ok) return { error: `GET /villages answered ${r.status}` };
    return r.json();
  });
  if (list.error) fail(list.error);
  const villages = list.villages ?? [];
  if (!villages.length) fail('GET /villages returned no village');
  const target = villages.find((v) => Number(v.population) > 0 && String(v.name).length >= 2);
  if (!target) fail('no village with population > 0 to test with');
  const expectPop = await page.evaluate((p) => Number(p).toLocaleString('zh-CN'), target.population);
  log(`test village: ${target.name} ${target.code} (${target.town}), population ${expectPop}`);

  const input = page.getByTestId('search-input');
  const partial = [...target.name].slice(0, Math.max(2, [...target.name].length - 1)).join('');
  await input.click();
  await input.fill(partial);
  let result = page.locator(`[data-testid="search-result"][data-code="${target.code}"]`);
  try {
    await result.waitFor({ state: 'visible', timeout: 5000 });
  } catch {
    log(`"${partial}" does not list ${target.code} among the first results; typing the full name`);
    await input.fill(target.name);
    result = page.locator(`[data-testid="search-result"][data-code="${target.code}"]`);
    await result.waitFor({ state: 'visible', timeout: 5000 }).catch(() => fail(`searching "${target.name}" did not list ${target.code}`));
  }
  const nResults = await page.getByTestId('search-result').count();
  if (nResults < 1 || nResults > 10) fail(`search showed ${nResults} results (expected 1–10)`);
  ok(`search "${partial}" listed ${nResults} result(s) including ${target.code}`);
  await result.click();

  await waitFor(page, (name) => document.querySelector('[data-testid="panel-name"]')?.textContent?.trim() === name, target.name, 15000, `panel-name = ${target.name}`);
  const pop = await panelText(page, 'panel-population');
  if (!pop.includes(expectPop)) fail(`panel-population is "${pop.trim()}", expected it to contain ${expectPop}`);
  const highlighted = await page.evaluate(() => window.__liancun.selected);
  if (highlighted !== target.code) fail(`selected village is ${highlighted}, expected ${target.code}`);
  ok(`search result opened the panel: ${target.name}, population "${pop.trim()}"`);

  // 3. Close the panel, click the village on the map.
  await page.getByTestId('panel-close').click();
  await waitFor(page, () => document.querySelector('[data-testid="village-panel"]').hidden, null, 5000, 'the panel to close');
  await mapSettled(page);
  const probe = await page.evaluate((c) => {
    const { map, villageFillLayer } = window.__liancun;
    const p = map.project(c);
    const rect = map.getCanvas().getBoundingClientRect();
    const x = rect.left + p.x;
    const y = rect.top + p.y;
    const hit = map.queryRenderedFeatures([p.x, p.y], { layers: [villageFillLayer] })[0];
    const el = document.elementFromPoint(x, y);
    return {
      x,
      y,
      code: hit ? String(hit.properties.code) : null,
      name: hit ? String(hit.properties.name) : null,
      onCanvas: el === map.getCanvas(),
      covering: el ? `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}` : 'nothing',
    };
  }, target.centroid);
  if (!probe.onCanvas) fail(`the centroid of ${target.name} (${Math.round(probe.x)}, ${Math.round(probe.y)}) is under ${probe.covering}, not the map`);
  if (!probe.code) fail(`no village rendered at the centroid of ${target.name}`);
  const expected = probe.code === target.code ? { code: target.code, name: target.name } : { code: probe.code, name: probe.name };
  if (probe.code !== target.code) log(`the centroid of ${target.name} lies in ${probe.name} ${probe.code}; expecting that one`);
  await page.mouse.click(probe.x, probe.y);
  await waitFor(page, (name) => document.querySelector('[data-testid="panel-name"]')?.textContent?.trim() === name, expected.name, 15000, `panel-name = ${expected.name} after the map click`);
  const code = (await panelText(page, 'panel-code')).trim();
  if (code !== expected.code) fail(`panel shows code ${code}, expected ${expected.code}`);
  ok(`map click at (${Math.round(probe.x)}, ${Math.round(probe.y)}) opened ${expected.name} ${expected.code}`);

  // 4. Language switch.
  const before = (await page.locator('.layers-card h2').textContent()).trim();
  await page.getByTestId('lang-switch').click();
  await waitFor(page, () => document.querySelector('.layers-card h2').textContent.trim() === 'Layers', null, 5000, 'the layer panel title to read "Layers"');
  const btn = (await page.getByTestId('lang-switch').textContent()).trim();
  const toggle = (await page.locator('[data-testid="layer-toggle-villages"]').locator('xpath=..').textContent()).trim();
  const popLabel = (await page.locator('[data-testid="panel-population"]').locator('xpath=preceding-sibling::dt').textContent()).trim();
  if (btn !== '中文') fail(`language button reads "${btn}" in English mode, expected 中文`);
  if (!/Village/.test(toggle)) fail(`villages layer toggle reads "${toggle}" in English mode`);
  if (popLabel !== 'Population') fail(`panel label reads "${popLabel}" in English mode`);
  ok(`EN: "${before}" → "Layers", layer "${toggle}", panel "${popLabel}"`);
  await page.getByTestId('lang-switch').click();
  await waitFor(page, () => document.querySelector('.layers-card h2').textContent.trim() === '图层', null, 5000, 'the layer panel title to read 图层 again');
  ok('中文: switched back');

  // 5. Screenshot (Chinese, panel open, village highlighted).
  await mapSettled(page);
  mkdirSync(dirname(shotPath), { recursive: true });
  await page.screenshot({ path: shotPath });
  ok(`screenshot saved to ${shotPath}`);

  if (problems.length) fail(`${problems.length} browser error(s):\n  ${problems.join('\n  ')}`);
  ok('no console errors or uncaught exceptions');
}

const guard = setTimeout(() => {
  console.error(`[browser] FAIL: the whole test took more than 180 s`);
  browser?.close().finally(() => process.exit(1));
}, 180000);

try {
  await run();
  console.log(`browser: ${passed} passed, 0 failed`);
  await browser?.close();
  clearTimeout(guard);
  process.exit(0);
} catch (e) {
  console.error(`[browser] FAIL: ${e instanceof Failure ? e.message : e?.stack ?? e}`);
  if (problems.length && !(e instanceof Failure && /browser error/.test(e.message))) {
    console.error(`[browser] browser errors seen:\n  ${problems.join('\n  ')}`);
  }
  console.log(`browser: ${passed} passed, 1 failed`);
  await browser?.close().catch(() => {});
  clearTimeout(guard);
  process.exit(1);
}
