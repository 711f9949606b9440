#!/usr/bin/env node
// End-to-end test of the web map in headless Chromium (Debian's `chromium`, driven by
// playwright-core; no browser download).
//
//   node web/tests/browser.mjs <base-url> <screenshot.png>
//
// <base-url> is a running `liancun serve` (the page is at <base-url>/map/) or the Vite dev server
// (`npm run dev`, which also serves the page at /map/). CHROMIUM_PATH overrides /usr/bin/chromium.
// Prints each step; exits 1 with a message on the first failure, on any uncaught page exception or
// console error, 2 on bad arguments. Besides <screenshot.png> it saves <screenshot>-zones.png (a
// zoning with a violation, its zone open in the panel), <screenshot>-facilities.png (an MCLP
// result: service areas, numbered new sites, uncovered villages hatched) and <screenshot>-plans.png
// (a plan after a village was moved into a far zone: the warning, the zone open in the panel).
//
// LIANCUN_TOKEN: an editor token of the server's workspace (`liancun token create -w W.gpkg
// --role editor --name …`, the last word it prints). Without it the plan steps stop after checking
// that the 规划方案 card is read-only.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CHROMIUM_PATH, fail, launch, mapSettled, reporter, runScript, waitFor } from './common.mjs';

const [baseArg, shotArg] = process.argv.slice(2);
if (!baseArg || !shotArg) {
  console.error('usage: node web/tests/browser.mjs <base-url> <screenshot.png>');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const pageUrl = `${base}/map/`;
const shotPath = resolve(shotArg);
const zonesShotPath = shotPath.replace(/(\.png)?$/i, '-zones.png');
const facilitiesShotPath = shotPath.replace(/(\.png)?$/i, '-facilities.png');
const plansShotPath = shotPath.replace(/(\.png)?$/i, '-plans.png');
const token = (process.env.LIANCUN_TOKEN ?? '').trim();

const { log, ok, passed } = reporter('browser');

const problems = []; // console errors and uncaught exceptions
let browser;
// The HTTP errors the test provokes on purpose (an infeasible proposal, a location request with
// too large a p: both answer 422), which Chromium reports as console errors.
let expectInfeasible = false;
let expectFacilityError = false;
let expectStale = false; // a plan edit based on a version someone else replaced: 412
let expectBadToken = false; // step 19: a bad token's whoami answers 401

async function panelText(page, testid) {
  return page.locator(`[data-testid="${testid}"]`).first().textContent({ timeout: 5000 });
}

async function run() {
  log(`Chromium ${CHROMIUM_PATH}, page ${pageUrl}`);
  browser = await launch();
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
    if (expectInfeasible && /Failed to load resource.*422/.test(m.text()) && /\/analysis\/zones\/propose$/.test(where)) return;
    if (expectFacilityError && /Failed to load resource.*422/.test(m.text()) && /\/analysis\/locate$/.test(where)) return;
    if (expectStale && /Failed to load resource.*412/.test(m.text()) && /\/plans\/\d+$/.test(where)) return;
    if (expectBadToken && /Failed to load resource.*401/.test(m.text()) && /\/auth\/whoami$/.test(where)) return;
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

  await testZones(page);
  await testFacilities(page, villages, target);
  await testPlans(page);

  if (problems.length) fail(`${problems.length} browser error(s):\n  ${problems.join('\n  ')}`);
  ok('no console errors or uncaught exceptions');
}

/** Counts of what the map draws of the zone overlay, from window.__liancun. */
function zoneRender(page) {
  return page.evaluate(() => {
    const { map, villageFillLayer, zoneLineLayer } = window.__liancun;
    const villages = map.queryRenderedFeatures({ layers: [villageFillLayer] });
    return {
      villages: villages.length,
      zoned: villages.filter((f) => f.state && Number.isInteger(f.state.zc)).length,
      outlines: map.queryRenderedFeatures({ layers: [zoneLineLayer] }).length,
      violationOutlines: map.getLayer('zones-violation-line') ? map.queryRenderedFeatures({ layers: ['zones-violation-line'] }).length : 0,
      problemVillages: map.queryRenderedFeatures({ layers: ['villages-problem-line'] }).length,
      mode: document.getElementById('colour-mode').value,
    };
  });
}

async function testZones(page) {
  // 6. Propose zones: the list fills, the villages take their zone's colour, outlines are drawn.
  const zoneItems = page.getByTestId('zone-item');
  await page.getByTestId('zones-propose').click();
  await waitFor(page, () => document.querySelectorAll('[data-testid="zone-item"]').length > 0 && !document.querySelector('[data-testid="zones-busy"]'), null, 60000, 'the zone list after 生成方案');
  const nItems = await zoneItems.count();
  const zoning = await page.evaluate(() => {
    const z = window.__liancun.zoning;
    return z && { zones: z.zones.length, violations: z.totals.violations, unassigned: z.unassigned.length, source: z.source, first: z.listed[0] };
  });
  if (!zoning || !(zoning.zones > 0)) fail(`window.__liancun.zoning has no zones after the proposal (${JSON.stringify(zoning)})`);
  if (nItems !== zoning.zones) fail(`the list shows ${nItems} zones, the evaluation has ${zoning.zones}`);
  const count = (await page.getByTestId('zones-count').textContent()).trim();
  if (!count.includes(String(zoning.zones))) fail(`the summary reads "${count}", expected ${zoning.zones} zones`);
  await mapSettled(page);
  let r = await zoneRender(page);
  if (r.mode !== 'zone') fail(`the colouring is "${r.mode}" after the proposal, expected "zone"`);
  if (!(r.outlines > 0)) fail('no zone outline rendered');
  if (!(r.zoned > 0) || r.zoned < r.villages * 0.9) fail(`only ${r.zoned} of ${r.villages} rendered villages carry a zone colour`);
  // The constraints fold away so that the list shows more than a few zones at a time.
  const inView = await page.evaluate(() => {
    const list = document.querySelector('[data-testid="zone-list"]');
    const item = list.querySelector('[data-testid="zone-item"]');
    return item ? list.clientHeight / item.offsetHeight : 0;
  });
  if (inView < 5) fail(`the zone list shows ${inView.toFixed(1)} zones at a time`);
  ok(`proposal: ${nItems} zones listed ("${count}"), ${r.zoned}/${r.villages} rendered villages zone-coloured, ${r.outlines} outline features, ${inView.toFixed(1)} zones in view`);

  // 7. A zone from the list: its detail in the panel, the map fitted to it.
  const first = zoneItems.first();
  const zid = await first.getAttribute('data-zone');
  await first.click();
  await waitFor(page, (id) => document.querySelector('[data-testid="zone-detail"]')?.dataset.zone === id, zid, 10000, `the detail of zone ${zid}`);
  const members = await page.locator('[data-testid="zone-members"] tr').count();
  if (members !== zoning.first.members.length) fail(`the detail of ${zid} lists ${members} members, expected ${zoning.first.members.length}`);
  ok(`zone ${zid}: detail with ${members} members`);

  // 8. A village clicked on the map names its zone.
  await mapSettled(page);
  const probe = await page.evaluate((id) => {
    const { map, villageFillLayer, villages, zoning: z } = window.__liancun;
    const zone = z.byId.get(id);
    const rect = map.getCanvas().getBoundingClientRect();
    for (const code of zone.members) {
      const v = villages.find((x) => x.code === code);
      if (!v?.centroid) continue;
      const p = map.project(v.centroid);
      const el = document.elementFromPoint(rect.left + p.x, rect.top + p.y);
      const hit = map.queryRenderedFeatures([p.x, p.y], { layers: [villageFillLayer] })[0];
      if (el === map.getCanvas() && hit) return { x: rect.left + p.x, y: rect.top + p.y, code: String(hit.properties.code), zone: z.zoneOf.get(String(hit.properties.code)) ?? null };
    }
    return null;
  }, zid);
  if (!probe) fail(`no member village of ${zid} is clickable on the map`);
  await page.mouse.click(probe.x, probe.y);
  await waitFor(page, (code) => document.querySelector('[data-testid="panel-code"]')?.textContent?.trim() === code && document.querySelector('[data-testid="panel-zone"]'), probe.code, 15000, `the panel of ${probe.code} with its zone`);
  const panelZone = (await page.getByTestId('panel-zone-id').textContent()).trim();
  if (panelZone !== probe.zone) fail(`the panel of ${probe.code} names zone ${panelZone}, expected ${probe.zone}`);
  const activeZone = await page.locator('[data-testid="zone-item"].active').getAttribute('data-zone');
  if (activeZone !== probe.zone) fail(`the list marks zone ${activeZone} for ${probe.code}, expected ${probe.zone}`);
  ok(`map click on ${probe.code}: panel and list name zone ${panelZone}`);

  // 9. A hand-made zoning with a violation, as CSV (BOM, header, CRLF) through the file input:
  // one village moved into a far zone, a few left out.
  const labels = await page.evaluate(() => {
    const z = window.__liancun.zoning;
    const out = {};
    for (const zone of z.zones) for (const c of zone.members) out[c] = zone.id;
    const a = z.zones[0];
    const b = z.zones[z.zones.length - 1];
    const moved = a.members.find((c) => c !== a.key_village?.code);
    out[moved] = b.id;
    const left = Object.keys(out).filter((c) => c !== moved).slice(-3);
    for (const c of left) delete out[c];
    return { out, moved, left };
  });
  const csv = `\ufeff村代码,片区\r\n${Object.entries(labels.out).map(([c, z]) => `${c},${z}`).join('\r\n')}\r\n`;
  await page.getByTestId('zones-file').setInputFiles({ name: 'hand-made.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
  await waitFor(page, () => document.querySelector('[data-testid="zones-summary"]')?.textContent.includes('hand-made.csv') && document.querySelector('[data-testid="zone-violation"]'), null, 30000, 'a violation badge after importing hand-made.csv');
  const badges = await page.getByTestId('zone-violation').count();
  const evald = await page.evaluate(() => ({ violations: window.__liancun.zoning.totals.violations, unassigned: window.__liancun.zoning.unassigned }));
  if (!(evald.violations > 0)) fail(`the imported zoning has ${evald.violations} violations, expected some`);
  if (evald.unassigned.length !== labels.left.length) fail(`${evald.unassigned.length} villages unassigned, expected ${labels.left.length}`);
  if (!(await page.getByTestId('zone-unassigned').count())) fail('no "unassigned" entry in the zone list');
  const violationText = (await page.getByTestId('zones-violations').textContent()).trim();
  await page.locator('[data-testid="zone-item"].bad').first().click();
  await waitFor(page, () => document.querySelector('[data-testid="zone-detail-violations"]'), null, 10000, 'the violations of the first bad zone in the panel');
  await mapSettled(page);
  r = await zoneRender(page);
  if (!(r.violationOutlines > 0)) fail('no red violation outline rendered around the violating zone');
  await page.screenshot({ path: zonesShotPath });
  ok(`CSV import: ${badges} zone(s) flagged ("${violationText}"), ${evald.unassigned.length} unassigned, screenshot ${zonesShotPath}`);

  // 10. An infeasible request: a toast naming the constraint, the villages outlined, nothing broken.
  expectInfeasible = true;
  await openConstraints(page);
  await page.getByTestId('zones-pop-floor').fill('999999999');
  await page.getByTestId('zones-propose').click();
  await waitFor(page, () => [...document.querySelectorAll('[data-testid="toast"]')].some((el) => el.textContent.includes('人口下限')), null, 30000, 'a toast naming 人口下限');
  const toastText = (await page.locator('[data-testid="toast"]', { hasText: '人口下限' }).first().textContent()).trim();
  const problem = await page.evaluate(() => window.__liancun.problemVillages.length);
  if (!(problem > 0)) fail('the 422 named no village to outline');
  if (!toastText.includes(String(problem))) fail(`the toast "${toastText}" does not give the ${problem} villages`);
  await mapSettled(page);
  r = await zoneRender(page);
  if (!(r.problemVillages > 0)) fail('the villages of the infeasible request are not outlined on the map');
  if (!(await page.getByTestId('zone-item').count())) fail('the zone list vanished after a failed proposal');
  expectInfeasible = false;
  ok(`infeasible proposal: toast "${toastText.slice(0, 60)}…", ${problem} villages outlined, the previous zoning kept`);

  // 10b. The proof and its verified relaxations in the card: at most 3 villages per zone is
  // proven impossible; one click adopts the verified member ceiling (its value goes into the
  // form) and proposes again, which now succeeds.
  await openConstraints(page);
  await page.getByTestId('zones-pop-floor').fill('');
  await page.getByTestId('zones-max-members').fill('3');
  expectInfeasible = true;
  await page.getByTestId('zones-propose').click();
  await waitFor(page, () => document.querySelector('[data-testid="zones-failure"]')?.dataset.outcome === 'infeasible' && document.querySelector('[data-testid="zones-relax"][data-kind="max_members"]'), null, 90000, 'the proof panel with a verified member ceiling');
  const nRelax = await page.getByTestId('zones-relax').count();
  await page.locator('[data-testid="zones-relax"][data-kind="max_members"]').first().click();
  await waitFor(page, () => !document.querySelector('[data-testid="zones-failure"]') && !document.querySelector('[data-testid="zones-busy"]') && window.__liancun.zoning?.source === 'proposal', null, 90000, 'the proposal with the adopted member ceiling');
  expectInfeasible = false;
  const maxNow = Number(await page.getByTestId('zones-max-members').inputValue());
  if (!(maxNow > 3)) fail(`the adopted relaxation left the member ceiling at ${maxNow}`);
  ok(`relaxations: ${nRelax} offered for at most 3 villages per zone; "max_members" adopted with one click (now ${maxNow}), the proposal succeeds`);
  await openConstraints(page);
  await page.getByTestId('zones-max-members').fill('10');

  // 11. Clear: back to the township colouring, no outlines.
  await page.getByTestId('zones-clear').click();
  await waitFor(page, () => document.querySelector('[data-testid="zone-list"]').hidden && document.getElementById('colour-mode').value === 'town', null, 5000, 'the zone list to clear');
  await mapSettled(page);
  r = await zoneRender(page);
  if (r.outlines !== 0 || r.zoned !== 0) fail(`after 清除 the map still shows ${r.outlines} outlines, ${r.zoned} zone-coloured villages`);
  ok('清除: zone list, outlines and colours gone, colouring back to 按乡镇');
}

/** Counts of what the map draws of a facility analysis, from window.__liancun. */
function facilityRender(page) {
  return page.evaluate(() => {
    const { map, villageFillLayer, facAreaLayer, facNewSiteLayer, facUncoveredLayer } = window.__liancun;
    const villages = map.queryRenderedFeatures({ layers: [villageFillLayer] });
    const areas = map.queryRenderedFeatures({ layers: [facAreaLayer] });
    const sites = map.queryRenderedFeatures({ layers: [facNewSiteLayer] });
    return {
      villages: villages.length,
      covered: villages.filter((f) => f.state?.cov === 1).length,
      uncovered: villages.filter((f) => f.state?.cov === 0).length,
      hatched: map.queryRenderedFeatures({ layers: [facUncoveredLayer] }).length,
      areas: areas.length,
      newAreas: areas.filter((f) => f.properties.existing === false).length,
      // A point near a tile edge may be drawn by two tiles: count distinct numbers.
      newSites: [...new Set(sites.map((f) => f.properties.n))].sort((a, b) => a - b),
      mode: document.getElementById('colour-mode').value,
    };
  });
}

async function testFacilities(page, villages, target) {
  // 12. Open the 设施分析 card: it folds the 片区方案 card and loads the facility kinds.
  await page.getByTestId('fac-toggle').click();
  await waitFor(page, () => !document.querySelector('[data-testid="fac-card"]').classList.contains('collapsed') && document.querySelector('[data-testid="zones-card"]').classList.contains('collapsed'), null, 5000, 'the 设施分析 card to open and the 片区方案 card to fold');
  await waitFor(page, () => document.querySelectorAll('[data-testid="fac-cov-kind"] option').length > 0, null, 20000, 'the facility kinds (GET /analysis/service-radii)');
  const kinds = await page.locator('[data-testid="fac-cov-kind"] option').evaluateAll((os) => os.map((o) => ({ kind: o.value, radius: o.dataset.radius, label: o.textContent })));
  // A kind with a table radius, 卫生室 if the workspace has clinics.
  const kind = kinds.find((k) => k.kind === '卫生室' && k.radius) ?? kinds.find((k) => k.radius);
  if (!kind) fail(`no facility kind with a radius in the table among ${JSON.stringify(kinds)}`);
  ok(`设施分析 opened: ${kinds.length} kinds (${kinds.map((k) => k.label).join('、')}), testing ${kind.kind} (${kind.radius} m)`);

  // 13. Coverage: service areas drawn, villages coloured covered / uncovered, the uncovered list.
  await page.getByTestId('fac-cov-kind').selectOption(kind.kind);
  await page.getByTestId('fac-cov-demand').selectOption('representative');
  await page.getByTestId('fac-cov-distance').selectOption('straight');
  await page.getByTestId('fac-run').click();
  await waitFor(page, () => document.querySelector('[data-testid="fac-summary"]')?.dataset.type === 'coverage' && !document.querySelector('[data-testid="fac-busy"]'), null, 60000, 'the coverage summary');
  const cov = await page.evaluate(() => ({ uncovered: window.__liancun.facilities.uncovered.length, areas: window.__liancun.facilities.areas.features.length }));
  const share = (await page.getByTestId('fac-covered-share').textContent()).trim();
  await mapSettled(page);
  let r = await facilityRender(page);
  if (!(cov.areas > 0)) fail('the coverage answer has no service areas');
  if (!(r.areas > 0)) fail(`the service-area layer rendered nothing (${cov.areas} areas in the answer)`);
  if (r.mode !== 'coverage') fail(`the colouring is "${r.mode}" after the coverage analysis, expected "coverage"`);
  if (!(cov.uncovered > 0)) fail(`no village is uncovered by ${kind.kind} within ${kind.radius} m: nothing to check`);
  if (!(r.uncovered > 0) || !(r.hatched > 0)) fail(`uncovered villages are not shown: ${r.uncovered} rendered with cov = 0, ${r.hatched} hatched`);
  if (!(r.covered > 0)) fail('no rendered village is shown covered');
  const items = page.getByTestId('fac-uncovered-item');
  if ((await items.count()) !== cov.uncovered) fail(`the list shows ${await items.count()} uncovered villages, the answer ${cov.uncovered}`);
  const firstCode = await items.first().getAttribute('data-village');
  await items.first().click();
  await waitFor(page, (code) => document.querySelector('[data-testid="panel-code"]')?.textContent?.trim() === code, firstCode, 15000, `the panel of the uncovered village ${firstCode}`);
  ok(`coverage of ${kind.kind}: "${share}", ${r.areas} service-area features rendered, ${r.uncovered}/${r.villages} rendered villages uncovered (${r.hatched} hatched), ${cov.uncovered} listed; the first opens ${firstCode}`);

  // 13b. Travel time (出行时间): the radius field gives way to minutes (15 by default), the request
  // sends distance "time" and minutes 15 (no radius_m), the summary and the village rows speak
  // minutes, the isochrones are drawn; switching back shows the radius field again, as it was.
  await page.getByTestId('fac-tab-coverage').click(); // unfolds the form folded by the last run
  await page.getByTestId('fac-cov-radius').fill('1200'); // kept aside, not sent
  await page.getByTestId('fac-cov-distance').selectOption('time');
  const fields = await page.evaluate(() => ({
    radius: document.querySelector('[data-testid="fac-cov-radius"]').closest('.zf-field').hidden,
    minutes: document.querySelector('[data-testid="fac-cov-minutes"]').closest('.zf-field').hidden,
    value: document.querySelector('[data-testid="fac-cov-minutes"]').value,
  }));
  if (!fields.radius || fields.minutes || fields.value !== '15') fail(`with 出行时间 the radius field is ${fields.radius ? 'hidden' : 'shown'}, the minutes field ${fields.minutes ? 'hidden' : 'shown'} with "${fields.value}" (expected the minutes field alone, 15)`);
  await page.getByTestId('fac-cov-minutes').fill('15');
  const t0 = Date.now();
  const [timeReq] = await Promise.all([
    page.waitForRequest((q) => q.method() === 'POST' && new URL(q.url()).pathname === '/analysis/coverage', { timeout: 10000 }),
    page.getByTestId('fac-run').click(),
  ]);
  const sent = timeReq.postDataJSON();
  if (sent?.distance !== 'time' || sent?.minutes !== 15 || 'radius_m' in sent || sent?.service_areas !== true) fail(`the travel-time request sent ${JSON.stringify(sent)}`);
  // 312 isochrones of the demo from a debug server take a while; the other steps wait 60 s too.
  await waitFor(page, () => document.querySelector('[data-testid="fac-reach"]')?.dataset.unit === 'min' && !document.querySelector('[data-testid="fac-busy"]'), null, 90000, 'the travel-time coverage summary');
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);
  // One look at the page for the texts and the overlay (each round trip is slow while the map draws).
  const shown = await page.evaluate(() => {
    const text = (el) => (el?.textContent ?? '').replace(/\s+/g, ' ').trim();
    const polys = (window.__liancun.facilities?.areas?.features ?? []).filter((f) => /Polygon$/.test(f.geometry?.type ?? ''));
    // Village rows: the farthest villages (and the uncovered ones, if any) with the time to the nearest facility.
    const rows = [...document.querySelectorAll('[data-testid="fac-far-item"], [data-testid="fac-uncovered-item"]')].map((li) => `${text(li.querySelector('.fi-name'))} · ${text(li.querySelector('.fi-meta'))}`);
    return {
      reach: text(document.querySelector('[data-testid="fac-reach"]')),
      head: text(document.querySelector('[data-testid="fac-summary"] .zs-source')),
      iso: polys.length,
      isoMin: polys.filter((f) => f.properties?.unit === 'min').length,
      rows,
    };
  });
  if (!shown.reach.includes('15 分钟')) fail(`the travel-time summary reads "${shown.reach}", expected 15 分钟`);
  if (!shown.head.includes('出行时间') || !shown.head.includes('按道路车速')) fail(`the summary head "${shown.head}" does not name travel time at road speeds`);
  if (!(shown.iso > 0) || shown.isoMin !== shown.iso) fail(`the travel-time answer drew ${shown.iso} service-area polygons, ${shown.isoMin} of them isochrones (unit min)`);
  const withMinutes = shown.rows.filter((x) => /最近设施 \d+(\.\d)? 分钟/.test(x));
  if (!shown.rows.length || withMinutes.length !== shown.rows.length) fail(`village rows of the travel-time result: ${shown.rows.length}, ${withMinutes.length} with 最近设施 … 分钟 (${JSON.stringify(shown.rows.slice(0, 2))})`);
  // The first isochrones drawn are enough (waiting for the map to be idle with 312 of them takes long).
  await waitFor(
    page,
    () => {
      const { map, facAreaLayer } = window.__liancun;
      return map.queryRenderedFeatures({ layers: [facAreaLayer] }).some((f) => f.properties.unit === 'min');
    },
    null,
    30000,
    `an isochrone rendered in the service-area layer (${shown.iso} in the answer)`,
  );
  // Back to 直线 in one go (DOM events: each Playwright action waits long while the map draws).
  const back = await page.evaluate(() => {
    document.querySelector('[data-testid="fac-tab-coverage"]').click();
    const select = document.querySelector('[data-testid="fac-cov-distance"]');
    select.value = 'straight';
    select.dispatchEvent(new Event('change', { bubbles: true }));
    const radius = document.querySelector('[data-testid="fac-cov-radius"]');
    const out = {
      radius: radius.closest('.zf-field').hidden,
      value: radius.value,
      minutes: document.querySelector('[data-testid="fac-cov-minutes"]').closest('.zf-field').hidden,
    };
    radius.value = ''; // the table's radius again for the steps after
    return out;
  });
  if (back.radius || !back.minutes || back.value !== '1200') fail(`after 直线 again the radius field is ${back.radius ? 'hidden' : 'shown'} with "${back.value}" (expected 1200), the minutes field ${back.minutes ? 'hidden' : 'shown'}`);
  ok(`travel time 15 min (answer shown after ${seconds} s, step ${((Date.now() - t0) / 1000).toFixed(1)} s): sent ${JSON.stringify({ distance: sent.distance, minutes: sent.minutes })}, "${shown.reach}", ${shown.iso} isochrones drawn, ${shown.rows.length} village rows in minutes ("${withMinutes[0]}"); 直线 brings the radius (1200) back`);

  // 14. MCLP, p = 5 new sites next to the existing facilities of the kind: 5 numbered markers.
  const P = 5;
  await page.getByTestId('fac-tab-locate').click();
  await page.getByTestId('fac-loc-model').selectOption('mclp');
  await page.getByTestId('fac-loc-p').fill(String(P));
  await page.getByTestId('fac-loc-radius').fill('');
  await page.getByTestId('fac-loc-kind').selectOption(kind.kind);
  await page.getByTestId('fac-loc-demand').selectOption('representative');
  await page.getByTestId('fac-loc-candidates').selectOption('representative');
  await page.getByTestId('fac-loc-distance').selectOption('straight');
  await page.getByTestId('fac-loc-method').selectOption('heuristic');
  await page.getByTestId('fac-run').click();
  await waitFor(page, () => document.querySelector('[data-testid="fac-summary"]')?.dataset.type === 'locate' && !document.querySelector('[data-testid="fac-busy"]'), null, 60000, 'the MCLP summary');
  const objective = (await page.getByTestId('fac-objective').textContent()).trim();
  const listed = await page.getByTestId('fac-site-item').count();
  // A clean screenshot: no side panel, no toast left from the zone steps.
  await page.getByTestId('panel-close').click();
  // Closed one at a time, the first each time: closing a toast re-indexes the rest.
  const closers = page.locator('[data-testid="toast"] .toast-close');
  for (let i = 0; i < 20 && (await closers.count()) > 0; i++) await closers.first().click();
  await mapSettled(page);
  r = await facilityRender(page);
  if (r.newSites.length !== P || r.newSites.join() !== [1, 2, 3, 4, 5].join()) fail(`the map shows new sites ${JSON.stringify(r.newSites)}, expected 1…${P}`);
  if (listed !== P) fail(`the list shows ${listed} new sites, expected ${P}`);
  if (!(r.newAreas > 0)) fail('no service area of a new site rendered');
  if (!(r.uncovered > 0)) fail('the villages MCLP leaves uncovered are not shown');
  await page.screenshot({ path: facilitiesShotPath });
  ok(`MCLP p = ${P}: "${objective}", markers ${r.newSites.join(' ')} and ${listed} listed, ${r.newAreas} new service-area features, ${r.uncovered} villages uncovered, screenshot ${facilitiesShotPath}`);

  // 15. Key-village ranking of the test village's town: one row per village, the four parts shown.
  const townCode = String(target.town_code ?? String(target.code).slice(0, 9));
  const expectRows = villages.filter((v) => String(v.town_code ?? String(v.code).slice(0, 9)) === townCode).length;
  await page.getByTestId('fac-tab-centers').click();
  await page.getByTestId('fac-scope').selectOption(`town:${townCode}`);
  await page.getByTestId('fac-run').click();
  await waitFor(page, () => document.querySelector('[data-testid="fac-summary"]')?.dataset.type === 'centers' && !document.querySelector('[data-testid="fac-busy"]'), null, 30000, 'the ranking table');
  const rows = page.getByTestId('fac-center-row');
  const nRows = await rows.count();
  if (nRows !== expectRows) fail(`the ranking of ${target.town} has ${nRows} rows, expected ${expectRows} (its villages)`);
  const heads = (await page.getByTestId('fac-part-head').allTextContents()).map((x) => x.trim());
  if (heads.join() !== '实力,区位,设施,产业') fail(`the part-score columns read ${JSON.stringify(heads)}`);
  const parts = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td.part')].map((td) => td.textContent.trim())));
  const badRow = parts.findIndex((p) => p.length !== 4 || !p.every((x) => /^\d+(\.\d+)?$/.test(x)));
  if (badRow >= 0) fail(`row ${badRow + 1} of the ranking shows parts ${JSON.stringify(parts[badRow])}`);
  if ((await page.getByTestId('fac-median').count()) !== 1) fail('the 1-median village is not marked once in the table');
  const second = rows.nth(Math.min(1, nRows - 1));
  const code2 = await second.getAttribute('data-village');
  await second.click();
  await waitFor(page, (code) => window.__liancun.selected === code && document.querySelector('[data-testid="panel-code"]')?.textContent?.trim() === code, code2, 15000, `village ${code2} highlighted after its row was clicked`);
  ok(`ranking of ${target.town}: ${nRows} rows, parts ${heads.join('/')} (first row ${parts[0].join(' ')}), row 2 highlights ${code2}`);

  // 16. A 422 naming its field: p-median with p = 100000 (more than the candidates).
  expectFacilityError = true;
  await page.getByTestId('fac-tab-locate').click();
  await page.getByTestId('fac-loc-model').selectOption('pmedian');
  await page.getByTestId('fac-loc-p').fill('100000');
  await page.getByTestId('fac-run').click();
  await waitFor(page, () => [...document.querySelectorAll('[data-testid="toast"]')].some((el) => el.textContent.includes('新设施数')), null, 30000, 'a toast naming 新设施数 p');
  const facToast = (await page.locator('[data-testid="toast"]', { hasText: '新设施数' }).first().locator('span').textContent()).trim();
  const marked = await page.getByTestId('fac-loc-p').evaluate((el) => el.classList.contains('invalid'));
  if (!marked) fail('the p input is not marked after the 422');
  if (await page.getByTestId('fac-summary').getAttribute('data-type') !== 'centers') fail('the previous result vanished after a failed request');
  expectFacilityError = false;
  ok(`422: toast "${facToast.slice(0, 70)}", the p input marked, the ranking kept`);

  // 17. Clear: no facility layers, the colouring back to 按乡镇.
  await page.getByTestId('fac-clear').click();
  await waitFor(page, () => !document.querySelector('[data-testid="fac-summary"]') && window.__liancun.facilities === null, null, 5000, 'the facility result to clear');
  await page.getByTestId('fac-tab-coverage').click(); // nothing is drawn for a tab change
  await mapSettled(page);
  r = await facilityRender(page);
  if (r.areas || r.newSites.length || r.hatched || r.uncovered || r.covered) fail(`after 清除 the map still shows ${JSON.stringify(r)}`);
  if (r.mode !== 'town') fail(`the colouring is "${r.mode}" after 清除, expected "town"`);
  ok('清除: service areas, sites, coverage colours gone, colouring back to 按乡镇');
}

/** Opens the 片区方案 card's constraints when a shown zoning has folded them. */
async function openConstraints(page) {
  if (await page.evaluate(() => document.getElementById('zones-form').classList.contains('folded'))) {
    await page.getByTestId('zones-constraints').click();
  }
}

/** What the plans card and the map show of the plan loaded, from the page. */
function planState(page) {
  return page.evaluate(() => {
    const { plan, zoning } = window.__liancun;
    const items = [...document.querySelectorAll('[data-testid="plan-zone-item"]')];
    return {
      version: Number(document.querySelector('[data-testid="plan-version"]')?.dataset.version ?? 0),
      planVersion: plan?.version ?? null,
      items: items.length,
      zones: plan?.zones?.length ?? 0,
      source: zoning?.source ?? null,
      warnings: [...document.querySelectorAll('[data-testid="plan-warning"]')].map((li) => ({ constraint: li.dataset.constraint, zone: li.dataset.zone ?? null, text: li.textContent.trim() })),
      busy: Boolean(document.querySelector('[data-testid="plans-busy"]')),
    };
  });
}

/** The list item of zone `id`: members and population (data attributes), the texts shown. */
function planItem(page, id) {
  return page.evaluate((zid) => {
    const li = document.querySelector(`[data-testid="plan-zone-item"][data-zone="${zid}"]`);
    if (!li) return null;
    const text = (tid) => li.querySelector(`[data-testid="${tid}"]`)?.textContent.trim() ?? null;
    return {
      members: Number(li.dataset.members),
      population: Number(li.dataset.population),
      count: text('plan-zone-count'),
      pop: text('plan-zone-pop'),
      name: text('plan-zone-name'),
      key: text('plan-zone-key'),
      badge: text('plan-zone-violation'),
    };
  }, id);
}

async function waitPlanVersion(page, v, what) {
  await waitFor(
    page,
    (n) => Number(document.querySelector('[data-testid="plan-version"]')?.dataset.version) === n && window.__liancun.plan?.version === n && !document.querySelector('[data-testid="plans-busy"]'),
    v,
    30000,
    `version ${v} of the plan (${what})`,
  );
}

async function testPlans(page) {
  // 18. The 规划方案 card: opening it folds the other two; read-only without a token, saying how
  // to get one.
  await page.getByTestId('plans-toggle').click();
  await waitFor(page, () => !document.querySelector('[data-testid="plans-card"]').classList.contains('collapsed') && document.querySelector('[data-testid="zones-card"]').classList.contains('collapsed') && document.querySelector('[data-testid="fac-card"]').classList.contains('collapsed'), null, 5000, 'the 规划方案 card to open and the other cards to fold');
  await waitFor(page, () => document.querySelectorAll('[data-testid="plans-select"] option').length > 0, null, 10000, 'the plan switcher (GET /plans)');
  const readOnly = await page.evaluate(() => ({
    summary: document.querySelector('[data-testid="plans-token-summary"]').textContent.trim(),
    open: document.querySelector('[data-testid="plans-token-box"]').open,
    hint: document.querySelector('[data-testid="plans-token-box"] code')?.textContent ?? '',
  }));
  if (!readOnly.summary.includes('只读') || !readOnly.open) fail(`without a token the card reads "${readOnly.summary}" (token box open: ${readOnly.open}), expected 只读 and the token field shown`);
  if (!readOnly.hint.includes('liancun token create') || !readOnly.hint.includes('--role editor')) fail(`the card does not say how to get a token: "${readOnly.hint}"`);
  ok(`规划方案 opened, read-only: "${readOnly.summary}", hint "${readOnly.hint.trim()}"`);
  if (!token) {
    log('!!!!! SKIPPED the plan edit steps: no LIANCUN_TOKEN (an editor token of the server\'s workspace) !!!!!');
    return;
  }

  // 19. A bad token is refused by the server (whoami) and dropped; the editor token is kept.
  expectBadToken = true;
  await page.getByTestId('plans-token').fill('lc_not_a_token');
  await page.getByTestId('plans-token-save').click();
  await waitFor(page, () => document.querySelector('[data-testid="plans-token-summary"]').textContent.includes('无效'), null, 5000, 'the token summary to read 无效');
  expectBadToken = false;
  if (await page.evaluate(() => window.localStorage.getItem('liancun.token'))) fail('a bad token was kept');
  await page.getByTestId('plans-token').fill(token);
  await page.getByTestId('plans-token-save').click();
  await waitFor(page, () => document.querySelector('[data-testid="plans-token-summary"]').textContent.includes('已设置（浏览器测试 · editor）'), null, 5000, 'the token summary to name the token and its role');
  const kept = await page.evaluate(() => window.localStorage.getItem('liancun.token'));
  if (kept !== token) fail('the token is not kept in localStorage');
  ok('编辑令牌: a bad one refused and dropped; the editor token checked (浏览器测试 · editor) and kept in localStorage');

  // 20. A new plan from a proposal (the 片区方案 card's bounds): zones listed, coloured, outlined.
  await page.getByTestId('plans-new').click();
  await page.getByTestId('plans-new-name').fill('浏览器测试方案');
  await page.getByTestId('plans-new-from').selectOption('proposal');
  await page.getByTestId('plans-create').click();
  await waitPlanVersion(page, 1, 'created from a proposal');
  let st = await planState(page);
  if (!(st.zones > 1)) fail(`the new plan has ${st.zones} zones`);
  if (st.items !== st.zones) fail(`the plan list shows ${st.items} zones, the plan has ${st.zones}`);
  if (st.source !== 'plan') fail(`the map shows a zoning from "${st.source}", expected the plan`);
  const selected = await page.getByTestId('plans-select').evaluate((el) => el.selectedOptions[0]?.textContent ?? '');
  if (!selected.includes('浏览器测试方案')) fail(`the plan switcher shows "${selected}"`);
  await mapSettled(page);
  let r = await zoneRender(page);
  if (r.mode !== 'zone' || !(r.outlines > 0) || !(r.zoned > 0)) fail(`the plan is not drawn: ${JSON.stringify(r)}`);
  const firstWarnings = st.warnings.length;
  ok(`plan created: ${st.zones} zones listed, "${selected}", ${r.zoned}/${r.villages} villages zone-coloured, ${r.outlines} outline features, ${firstWarnings} warning(s)`);

  // 21. 调整模式: click a village of zone A on the map and move it into the zone farthest from it.
  // A = a zone with at least 3 villages (it stays a zone); the village = a non-key member whose
  // centroid lies in itself on the screen after zone A is opened (the map fits it).
  const pick = await page.evaluate(() => {
    const { plan, villages } = window.__liancun;
    const byCode = new Map(villages.map((v) => [String(v.code), v]));
    const centre = (z) => {
      const cs = z.members.map((m) => byCode.get(String(m.code))?.centroid).filter(Array.isArray);
      return [cs.reduce((s, c) => s + c[0], 0) / cs.length, cs.reduce((s, c) => s + c[1], 0) / cs.length];
    };
    const a = plan.zones.find((z) => z.members.length >= 3 && z.violations.length === 0);
    if (!a) return null;
    const ca = centre(a);
    let b = null;
    let best = -1;
    for (const z of plan.zones) {
      if (z.id === a.id || !z.members.length) continue;
      const c = centre(z);
      const d = Math.hypot((c[0] - ca[0]) * Math.cos((ca[1] * Math.PI) / 180), c[1] - ca[1]);
      if (d > best) [best, b] = [d, z];
    }
    return { a: a.id, b: b.id, candidates: a.members.filter((m) => m.code !== a.key_village?.code).map((m) => ({ code: String(m.code), name: m.name, population: m.population })) };
  });
  if (!pick) fail('no zone with 3 villages or more in the plan');
  const before = { a: await planItem(page, pick.a), b: await planItem(page, pick.b) };
  await page.locator(`[data-testid="plan-zone-item"][data-zone="${pick.a}"]`).click();
  await waitFor(page, (id) => document.querySelector('[data-testid="plan-zone-detail"]')?.dataset.zone === id, pick.a, 10000, `the detail of zone ${pick.a}`);
  await page.getByTestId('plans-adjust-input').check();
  await mapSettled(page);
  const probe = await page.evaluate((cands) => {
    const { map, villageFillLayer, villages } = window.__liancun;
    const rect = map.getCanvas().getBoundingClientRect();
    for (const c of cands) {
      const v = villages.find((x) => String(x.code) === c.code);
      if (!v?.centroid) continue;
      const p = map.project(v.centroid);
      const el = document.elementFromPoint(rect.left + p.x, rect.top + p.y);
      const hit = map.queryRenderedFeatures([p.x, p.y], { layers: [villageFillLayer] })[0];
      if (el === map.getCanvas() && hit && String(hit.properties.code) === c.code) return { ...c, x: rect.left + p.x, y: rect.top + p.y };
    }
    return null;
  }, pick.candidates);
  if (!probe) fail(`no non-key village of zone ${pick.a} is clickable on the map`);
  await page.mouse.click(probe.x, probe.y);
  const chooser = page.locator(`[data-testid="plan-chooser"][data-village="${probe.code}"]`);
  await chooser.waitFor({ state: 'visible', timeout: 10000 }).catch(() => fail(`no move chooser for ${probe.name} ${probe.code} after the click in 调整模式`));
  const options = await chooser.locator('[data-testid="plan-move-target"] option').count();
  if (options !== st.zones + 1) fail(`the chooser offers ${options} targets, expected ${st.zones} zones + 未分区`);
  await chooser.getByTestId('plan-move-target').selectOption(pick.b);
  await chooser.getByTestId('plan-move-apply').click();
  await waitPlanVersion(page, 2, `${probe.code} moved to ${pick.b}`);
  await waitFor(page, () => !document.querySelector('[data-testid="plan-chooser"]'), null, 5000, 'the chooser to close');
  st = await planState(page);
  const after = { a: await planItem(page, pick.a), b: await planItem(page, pick.b) };
  const warning = st.warnings.find((w) => w.constraint === 'disconnected' && w.zone === pick.b);
  if (!warning) fail(`no "disconnected" warning for ${pick.b} after the move; warnings: ${JSON.stringify(st.warnings)}`);
  if (!/连片|不连通/.test(warning.text)) fail(`the warning reads "${warning.text}"`);
  if (!after.b.badge) fail(`zone ${pick.b} has no violation badge after the move`);
  if (after.b.members !== before.b.members + 1 || after.a.members !== before.a.members - 1) fail(`members ${pick.a}: ${before.a.members} → ${after.a.members}, ${pick.b}: ${before.b.members} → ${after.b.members}`);
  if (!after.b.count.includes(String(before.b.members + 1))) fail(`the list shows "${after.b.count}" for ${pick.b}, expected ${before.b.members + 1} villages`);
  if (Math.abs(after.b.population - (before.b.population + Number(probe.population))) > 0.5) fail(`population of ${pick.b}: ${before.b.population} + ${probe.population} ≠ ${after.b.population}`);
  // The moved village takes zone B's colour (feature-state zc, as B's other villages).
  const colour = await page.evaluate(({ code, zid }) => {
    const { map, zoning } = window.__liancun;
    const zc = (c) => map.getFeatureState({ source: 'villages', sourceLayer: 'villages', id: c }).zc;
    const others = zoning.byId.get(zid).members.filter((c) => c !== code);
    return { zone: zoning.zoneOf.get(code), zc: zc(code), zoneZc: [...new Set(others.map(zc))] };
  }, { code: probe.code, zid: pick.b });
  if (colour.zone !== pick.b) fail(`the map's zoning puts ${probe.code} in ${colour.zone}, expected ${pick.b}`);
  if (!Number.isInteger(colour.zc) || colour.zoneZc.length !== 1 || colour.zc !== colour.zoneZc[0]) fail(`${probe.code} is coloured ${colour.zc}, the other villages of ${pick.b} ${JSON.stringify(colour.zoneZc)}`);
  ok(`调整模式: ${probe.name} ${probe.code} moved ${pick.a} → ${pick.b} (far): warning "${warning.text}", ${pick.b} ${before.b.count} → ${after.b.count}, ${before.b.pop} → ${after.b.pop}, badge "${after.b.badge}", ${pick.a} ${before.a.count} → ${after.a.count}`);

  // The warning opens zone B: its violations in the panel, its outline dashed red on the map.
  await page.getByTestId('plans-adjust-input').uncheck();
  await page.locator(`[data-testid="plan-warning"][data-constraint="disconnected"][data-zone="${pick.b}"]`).click();
  await waitFor(page, (id) => document.querySelector('[data-testid="plan-zone-detail"]')?.dataset.zone === id && document.querySelector('[data-testid="zone-detail-violations"]'), pick.b, 10000, `the detail of ${pick.b} with its violations`);
  // Closed one at a time, the first each time: closing a toast re-indexes the rest.
  const closers = page.locator('[data-testid="toast"] .toast-close');
  for (let i = 0; i < 20 && (await closers.count()) > 0; i++) await closers.first().click();
  await mapSettled(page);
  r = await zoneRender(page);
  if (!(r.violationOutlines > 0)) fail(`no red outline drawn around ${pick.b}`);
  await page.screenshot({ path: plansShotPath });
  ok(`warning → zone ${pick.b}: violations in the panel, ${r.violationOutlines} red outline features, screenshot ${plansShotPath}`);

  // 22. In the zone's panel: the moved village becomes the key village, the zone is renamed.
  await page.locator(`[data-testid="plan-detail-set-key"][data-village="${probe.code}"]`).click();
  await waitPlanVersion(page, 3, `key village of ${pick.b}`);
  const keyed = await planItem(page, pick.b);
  if (keyed.key !== probe.name) fail(`the key village of ${pick.b} reads "${keyed.key}", expected ${probe.name}`);
  const newName = `${probe.name}测试片区`;
  await page.getByTestId('plan-detail-name').fill(newName);
  await page.getByTestId('plan-detail-rename').click();
  await waitPlanVersion(page, 4, `${pick.b} renamed`);
  const renamed = await planItem(page, pick.b);
  if (renamed.name !== newName) fail(`zone ${pick.b} is listed as "${renamed.name}", expected ${newName}`);
  const title = (await page.getByTestId('plan-detail-title').textContent()).trim();
  if (title !== newName) fail(`the panel title reads "${title}"`);
  ok(`设为中心村: ★ ${keyed.key}; renamed to "${renamed.name}" (list and panel)`);

  // 23. Someone else saves meanwhile: the next edit answers 412, the card says so and reloads.
  const other = await page.evaluate(async ({ tok, zid }) => {
    const { plan } = window.__liancun;
    const res = await fetch(`/plans/${plan.id}`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tok}`, 'If-Match': plan.etag },
      body: JSON.stringify({ edits: [{ op: 'set_notes', zone: zid, notes: '另一位编辑的备注' }] }),
    });
    return { status: res.status, version: (await res.json()).version };
  }, { tok: token, zid: pick.a });
  if (other.status !== 200) fail(`the other editor's PATCH answered ${other.status}`);
  expectStale = true;
  const typeBefore = await page.getByTestId('plan-detail-type').inputValue();
  const otherType = await page.getByTestId('plan-detail-type').evaluate((el, cur) => [...el.options].map((o) => o.value).find((v) => v !== cur), typeBefore);
  await page.getByTestId('plan-detail-type').selectOption(otherType);
  await waitFor(page, () => [...document.querySelectorAll('[data-testid="toast"]')].some((el) => el.textContent.includes('方案已被他人修改，已重新载入')), null, 15000, 'the toast 方案已被他人修改，已重新载入');
  await waitPlanVersion(page, other.version, 'reloaded after the 412');
  const reloaded = await page.evaluate(({ a, b }) => {
    const { plan } = window.__liancun;
    return { notes: plan.zones.find((z) => z.id === a).notes, type: plan.zones.find((z) => z.id === b).type };
  }, { a: pick.a, b: pick.b });
  if (reloaded.notes !== '另一位编辑的备注') fail(`after the reload zone ${pick.a} has notes "${reloaded.notes}"`);
  if (reloaded.type !== typeBefore) fail(`the refused type change was applied: ${reloaded.type}`);
  expectStale = false;
  ok(`412: toast "方案已被他人修改，已重新载入", reloaded at version ${other.version} with the other editor's notes, the stale edit not applied`);

  // 24. 历史版本: every version listed; restoring version 1 brings the plan back without warnings.
  await page.getByTestId('plans-tab-history').click();
  await waitFor(page, (n) => document.querySelectorAll('[data-testid="plan-version-item"]').length === n, other.version, 10000, `${other.version} versions in 历史版本`);
  const restoreButtons = await page.getByTestId('plan-restore').count();
  if (restoreButtons !== other.version - 1) fail(`${restoreButtons} 恢复 buttons, expected ${other.version - 1} (all but the head)`);
  await page.locator('[data-testid="plan-version-item"][data-version="1"] [data-testid="plan-restore"]').click();
  await waitPlanVersion(page, other.version + 1, 'version 1 restored');
  await waitFor(page, (n) => document.querySelectorAll('[data-testid="plan-version-item"]').length === n, other.version + 1, 10000, 'the restored version in 历史版本');
  st = await planState(page);
  const restoredB = await planItem(page, pick.b);
  if (st.warnings.some((w) => w.constraint === 'disconnected' && w.zone === pick.b) || restoredB.badge) fail(`${pick.b} still flagged after restoring version 1`);
  if (restoredB.members !== before.b.members || st.warnings.length !== firstWarnings) fail(`after restoring version 1: ${pick.b} has ${restoredB.members} villages (was ${before.b.members}), ${st.warnings.length} warnings (was ${firstWarnings})`);
  ok(`历史版本: ${other.version} versions listed, 恢复 version 1 → version ${other.version + 1}: ${pick.b} back to ${restoredB.count}, the warning gone`);

  // 25. Downloads: every export link answers 200 (the CSV with its header), sheet links present.
  await page.getByTestId('plans-tab-downloads').click();
  const links = await page.evaluate(async () => {
    const out = {};
    for (const a of document.querySelectorAll('[data-testid^="plan-export-"]')) {
      const res = await fetch(a.href);
      const body = await res.arrayBuffer();
      const text = new TextDecoder().decode(body.slice(0, 200));
      out[a.dataset.testid.replace('plan-export-', '')] = { status: res.status, type: res.headers.get('content-type'), bytes: body.byteLength, head: text.split(/\r?\n/)[0], href: a.getAttribute('href') };
    }
    out.sheets = [...document.querySelectorAll('[data-testid^="plan-sheet-"]')].map((a) => a.getAttribute('href'));
    return out;
  });
  for (const f of ['geojson', 'gpkg', 'shp', 'shp-gk', 'csv', 'stats']) {
    if (!links[f]) fail(`no download link for ${f}`);
    if (links[f].status !== 200 || !(links[f].bytes > 0)) fail(`the ${f} link ${links[f].href} answered ${links[f].status} (${links[f].bytes} bytes)`);
  }
  if (!/^text\/csv/.test(links.csv.type) || !links.csv.head.includes('片区编号')) fail(`the member CSV is ${links.csv.type}, first line "${links.csv.head}"`);
  if (!links.sheets.some((h) => /\/sheet\?format=pdf&paper=a3$/.test(h)) || !links.sheets.some((h) => /\/sheet\?zone=Z\d+&format=pdf&paper=a4$/.test(h))) fail(`sheet links: ${JSON.stringify(links.sheets)}`);
  if (!/crs=metric&encoding=gbk/.test(links['shp-gk'].href)) fail(`the GBK shapefile link is ${links['shp-gk'].href}`);
  if (!links.sheets.some((h) => /paper=a3-portrait$/.test(h))) fail(`no A3 portrait overview: ${JSON.stringify(links.sheets)}`);
  ok(`downloads: ${['geojson', 'gpkg', 'shp', 'shp-gk', 'csv', 'stats'].map((f) => `${f} ${links[f].status} ${links[f].bytes} B`).join(', ')}; CSV "${links.csv.head.slice(0, 30)}…"; ${links.sheets.length} sheet links`);

  // 26. English: the card and its version label switch too.
  await page.getByTestId('lang-switch').click();
  await waitFor(page, () => document.querySelector('[data-testid="plans-toggle"]').textContent.trim() === 'Plans' && document.querySelector('[data-testid="plan-version"]').textContent.startsWith('Version'), null, 5000, 'the plans card in English');
  await page.getByTestId('lang-switch').click();
  await waitFor(page, () => document.querySelector('[data-testid="plan-version"]').textContent.startsWith('第'), null, 5000, 'the plans card back in Chinese');
  ok('EN/中文: the plans card follows the language switch');

  // 27. One township with a strong share: the proposal zones that township alone and the map
  // zooms to it; a plan made from the shown zoning carries its bounds, so the plan's warnings are
  // exactly the violations the proposal's own evaluation found (none for villages elsewhere).
  await page.getByTestId('zones-toggle').click();
  await waitFor(page, () => !document.querySelector('[data-testid="zones-card"]').classList.contains('collapsed'), null, 5000, 'the 片区方案 card to open');
  const town = await page.evaluate(() => {
    const counts = new Map();
    for (const v of window.__liancun.villages) if (v.town) counts.set(v.town, (counts.get(v.town) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1])[0][0];
  });
  await openConstraints(page);
  await page.getByTestId('zones-town').selectOption(town);
  await page.getByTestId('zones-strong-share').fill('0.3');
  await mapSettled(page);
  const zoomBefore = await page.evaluate(() => window.__liancun.map.getZoom());
  await page.getByTestId('zones-propose').click();
  await waitFor(page, (t) => window.__liancun.zoning?.source === 'proposal' && window.__liancun.zoning.params?.towns?.[0] === t && !document.querySelector('[data-testid="zones-busy"]'), town, 60000, `the proposal for ${town}`);
  await mapSettled(page);
  const tz = await page.evaluate((t) => {
    const { zoning, villages, map } = window.__liancun;
    const byCode = new Map(villages.map((v) => [String(v.code), v]));
    const codes = [...zoning.zoneOf.keys()];
    return {
      zones: zoning.zones.length,
      placed: codes.length,
      outside: codes.filter((c) => byCode.get(c)?.town !== t).length,
      inTown: villages.filter((v) => v.town === t).length,
      unassigned: zoning.unassigned.length,
      share: zoning.params.strong_share,
      violations: zoning.zones.flatMap((z) => (z.violations ?? []).map((v) => `${z.id}:${v.constraint}`)).sort(),
      zoom: map.getZoom(),
    };
  }, town);
  if (!(tz.zones > 0) || tz.outside !== 0 || tz.placed !== tz.inTown) fail(`the proposal for ${town}: ${JSON.stringify(tz)} (every village of ${town} and none elsewhere expected)`);
  if (tz.unassigned !== 0) fail(`villages outside ${town} are reported unassigned: ${tz.unassigned}`);
  if (tz.share !== 0.3) fail(`the strong share went out as ${tz.share}`);
  if (!(tz.zoom > zoomBefore + 0.5)) fail(`the map did not zoom to ${town}: zoom ${zoomBefore.toFixed(2)} → ${tz.zoom.toFixed(2)}`);
  ok(`${town} alone, 强村比例 0.3: ${tz.zones} zones over its ${tz.inTown} villages, none elsewhere; zoom ${zoomBefore.toFixed(1)} → ${tz.zoom.toFixed(1)}; ${tz.violations.length} violation(s)`);

  await page.getByTestId('plans-toggle').click();
  await waitFor(page, () => !document.querySelector('[data-testid="plans-card"]').classList.contains('collapsed'), null, 5000, 'the 规划方案 card to open');
  await page.getByTestId('plans-new').click();
  await page.getByTestId('plans-new-name').fill('乡镇片区方案');
  await page.getByTestId('plans-new-from').selectOption('zoning');
  await page.getByTestId('plans-create').click();
  await waitFor(page, () => window.__liancun.plan?.name === '乡镇片区方案' && window.__liancun.plan.version === 1 && !document.querySelector('[data-testid="plans-busy"]'), null, 30000, 'the plan made from the township proposal');
  st = await planState(page);
  const planWarnings = st.warnings.map((w) => `${w.zone}:${w.constraint}`).sort();
  if (st.zones !== tz.zones) fail(`the plan has ${st.zones} zones, the proposal ${tz.zones}`);
  if (JSON.stringify(planWarnings) !== JSON.stringify(tz.violations)) fail(`the plan warns ${JSON.stringify(planWarnings)}, the proposal's own evaluation ${JSON.stringify(tz.violations)}`);
  ok(`plan from the ${town} proposal: ${st.zones} zones, warnings ${JSON.stringify(planWarnings)} = the proposal's`);
}

await runScript('browser', run, { limitS: 240, passed, browser: () => browser, problems });
