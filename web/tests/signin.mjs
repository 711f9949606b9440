#!/usr/bin/env node
// End-to-end test of the web map's sign-in (登录) against a server run with `--read viewer`, in
// headless Chromium like browser.mjs.
//
//   LIANCUN_TOKEN=<viewer token> node web/tests/signin.mjs <base-url> <screenshot.png>
//
// <base-url> is a running `liancun serve --read viewer` (or the Vite dev server in front of one);
// LIANCUN_TOKEN a viewer token of its workspace (`liancun token create -w W.gpkg --role viewer
// --name …`, the last word it prints). Checks: the form comes up before any data is asked for;
// a wrong token gets the inline error and no data; the token signs in, the village tiles load
// with it and render, the search and the village panel work; a reload stays signed in; 退出登录
// brings the form back; a stored token the server refuses brings it back too, saying why.
// Saves <screenshot.png> (the form as it first shows). Exits 1 with a message on the first
// failure, on an uncaught page exception or an unexpected console error; 2 on bad arguments.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CHROMIUM_PATH, fail, launch, reporter, runScript, waitFor } from './common.mjs';

const [baseArg, shotArg] = process.argv.slice(2);
const token = (process.env.LIANCUN_TOKEN ?? '').trim();
if (!baseArg || !shotArg || !token) {
  console.error('usage: LIANCUN_TOKEN=<viewer token> node web/tests/signin.mjs <base-url> <screenshot.png>');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const pageUrl = `${base}/map/`;
const shotPath = resolve(shotArg);

const { log, ok, passed } = reporter('signin');
const problems = []; // console errors and uncaught exceptions
let browser;

/** Every request of the page (the map's worker included) and the answers, in order. */
const traffic = [];
/** The data routes: none of them may be asked for before a sign-in. */
const DATA = /\/(tiles|villages|collections|analysis|plans)(\/|\?|$)/;
const dataRequests = () => traffic.filter((r) => DATA.test(new URL(r.url).pathname));

const dialogOpen = (page) => page.evaluate(() => document.querySelector('[data-testid="signin"]').open);
const storedToken = (page) => page.evaluate(() => window.localStorage.getItem('liancun.token'));

/** Waits for the sign-in form: open, its field focused. */
async function waitForm(page, what) {
  await waitFor(page, () => document.querySelector('[data-testid="signin"]')?.open === true, null, 20000, `the sign-in form (${what})`);
  await page.getByTestId('signin-token').waitFor({ state: 'visible', timeout: 5000 });
}

/** Signs in with `value` through the form. */
async function submit(page, value) {
  await page.getByTestId('signin-token').fill(value);
  await page.getByTestId('signin-submit').click();
}

/** Waits for the map to be ready (village tiles rendered); the number of village features. */
async function waitMap(page, what) {
  await waitFor(page, () => window.__liancun && window.__liancun.ready === true, null, 60000, `window.__liancun.ready (${what})`);
  return page.evaluate(() => {
    const { map, villageFillLayer } = window.__liancun;
    return map.queryRenderedFeatures({ layers: [villageFillLayer] }).length;
  });
}

async function run() {
  // 0. The server reads only with a token, and says so in its (public) config.
  const config = await fetch(`${base}/map/config.json`).then((r) => r.json());
  if (config.read !== 'viewer') fail(`/map/config.json says read = ${JSON.stringify(config.read)}: start the server with --read viewer`);
  const anon = await fetch(`${base}/villages`);
  if (anon.status !== 401) fail(`GET /villages without a token answered ${anon.status}, expected 401`);
  ok('the server runs with --read viewer: config.read = "viewer", /villages without a token is 401');

  log(`Chromium ${CHROMIUM_PATH}, page ${pageUrl}`);
  browser = await launch();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'zh-CN' });
  page.setDefaultTimeout(20000);

  let signedOut = false; // after 退出登录, a tile already on its way may still answer 401
  page.on('pageerror', (e) => {
    problems.push(`uncaught exception: ${e.message}`);
    log(`!! uncaught exception: ${e.message}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url ?? '';
    // Wrong and refused tokens: whoami answers 401 on purpose.
    if (/Failed to load resource.*401/.test(m.text()) && /\/auth\/whoami$/.test(where)) return;
    if (signedOut && /Failed to load resource.*401/.test(m.text()) && /\/tiles\//.test(where)) return;
    // A workspace may lack a layer: its TileJSON answers 404 and the page skips it on purpose.
    if (/Failed to load resource.*404/.test(m.text()) && /\/tiles\/[^/]+$/.test(where)) return;
    problems.push(`console error: ${m.text()}${where ? ` (${where})` : ''}`);
    log(`!! console error: ${m.text()} ${where}`);
  });
  page.on('request', (r) => traffic.push({ url: r.url(), request: r, status: null }));
  page.on('response', (r) => {
    const entry = traffic.find((x) => x.request === r.request());
    if (entry) entry.status = r.status();
    if (r.status() >= 500) {
      problems.push(`HTTP ${r.status()} from ${r.url()}`);
      log(`!! HTTP ${r.status()} ${r.url()}`);
    }
  });

  // 1. The form comes up, and nothing but the page, its config and whoami is asked for.
  const resp = await page.goto(pageUrl, { waitUntil: 'domcontentloaded', timeout: 30000 });
  if (!resp || !resp.ok()) fail(`GET ${pageUrl} answered ${resp ? resp.status() : 'nothing'}`);
  await waitForm(page, 'first visit');
  await page.waitForTimeout(1500); // room for any request that should not be made
  const early = dataRequests();
  const early200 = early.filter((r) => r.status === 200);
  if (early200.length) fail(`before the sign-in the data answered 200: ${early200.map((r) => r.url).join(', ')}`);
  if (early.length) fail(`before the sign-in the page asked for data: ${early.map((r) => `${r.url} (${r.status})`).join(', ')}`);
  const form = await page.evaluate(() => ({
    focused: document.activeElement?.dataset.testid ?? '',
    title: document.querySelector('#signin-title').textContent.trim(),
    hint: document.querySelector('[data-testid="signin"] code')?.textContent ?? '',
    header: !document.querySelector('[data-testid="auth-row"]').hidden,
    ready: window.__liancun?.ready === true,
  }));
  if (form.title !== '登录') fail(`the form's title is "${form.title}", expected 登录`);
  if (!form.hint.includes('liancun token create') || !form.hint.includes('--role viewer')) fail(`the form does not say how to get a token: "${form.hint}"`);
  if (form.focused !== 'signin-token') fail(`the token field is not focused (${form.focused || 'nothing'} is)`);
  if (form.header || form.ready) fail(`before the sign-in: signed-in line shown ${form.header}, map ready ${form.ready}`);
  ok(`the sign-in form is up (登录, field focused, the token command shown); ${traffic.length} requests, none for data`);

  mkdirSync(dirname(shotPath), { recursive: true });
  await page.screenshot({ path: shotPath });
  log(`screenshot ${shotPath}`);

  // 2. English and back: the form follows the language switch in it.
  await page.getByTestId('signin-lang').click();
  await waitFor(page, () => document.querySelector('[data-testid="signin-submit"]').textContent.trim() === 'Sign in', null, 5000, 'the form in English');
  await page.getByTestId('signin-lang').click();
  await waitFor(page, () => document.querySelector('[data-testid="signin-submit"]').textContent.trim() === '登录', null, 5000, 'the form back in Chinese');
  ok('EN/中文: the form has its own language switch');

  // 3. A wrong token: the inline error, the form stays, nothing stored, still no data.
  await submit(page, 'lc_0000000000000000000000000000000000000000000000000000000000000000');
  await waitFor(page, () => {
    const el = document.querySelector('[data-testid="signin-error"]');
    return el && !el.hidden && el.textContent.includes('无效');
  }, null, 10000, 'the inline error 令牌无效');
  const error = (await page.getByTestId('signin-error').textContent()).trim();
  if (!(await dialogOpen(page))) fail('the form closed after a wrong token');
  if (await storedToken(page)) fail('a wrong token was stored');
  if (dataRequests().length) fail(`a wrong token let the page ask for data: ${dataRequests().map((r) => r.url).join(', ')}`);
  ok(`a wrong token: "${error}", the form stays, nothing stored`);

  // 4. The viewer token: the form closes, the tiles come with the token, the villages render.
  await submit(page, token);
  await waitFor(page, () => !document.querySelector('[data-testid="signin"]').open, null, 10000, 'the form to close after the sign-in');
  const rendered = await waitMap(page, 'after the sign-in');
  if (!(rendered > 0)) fail(`the villages layer rendered no features (${rendered})`);
  if ((await storedToken(page)) !== token) fail('the token is not kept in localStorage');
  const tiles = traffic.filter((r) => /\/tiles\/villages\/\d+\/\d+\/\d+/.test(r.url));
  const tile200 = tiles.find((r) => r.status === 200);
  if (!tile200) fail(`no village tile answered 200 (${tiles.length} asked for: ${tiles.slice(0, 3).map((r) => `${r.url} ${r.status}`).join(', ')})`);
  const tileAuth = (await tile200.request.allHeaders()).authorization;
  if (tileAuth !== `Bearer ${token}`) fail(`the tile request carried Authorization ${JSON.stringify(tileAuth)}`);
  const refused = dataRequests().filter((r) => r.status === 401);
  if (refused.length) fail(`signed in, yet data answered 401: ${refused.map((r) => r.url).join(', ')}`);
  const who = await page.evaluate(() => ({
    line: document.querySelector('[data-testid="auth-row"]').hidden ? null : document.querySelector('[data-testid="auth-user"]').textContent.trim(),
  }));
  if (!who.line?.startsWith('已登录')) fail(`the header says ${JSON.stringify(who.line)}, expected 已登录：…`);
  ok(`signed in: ${rendered} village features rendered, ${tiles.length} village tiles (200 with the bearer token), header "${who.line}"`);

  // 5. The village search and the panel (GET /villages/{code} with the token).
  const target = await page.evaluate(() => window.__liancun.villages.find((v) => String(v.name ?? '').length >= 2) ?? null);
  if (!target) fail('the village list is empty after the sign-in');
  const input = page.getByTestId('search-input');
  await input.click();
  await input.fill(target.name);
  const result = page.locator(`[data-testid="search-result"][data-code="${target.code}"]`);
  await result.waitFor({ state: 'visible', timeout: 5000 }).catch(() => fail(`searching "${target.name}" did not list ${target.code}`));
  await result.click();
  await waitFor(page, (name) => document.querySelector('[data-testid="panel-name"]')?.textContent?.trim() === name, target.name, 15000, `panel-name = ${target.name}`);
  ok(`search "${target.name}" listed ${target.code}; its panel opened`);

  // 6. A reload stays signed in: no form, the map comes back by itself.
  await page.reload({ waitUntil: 'domcontentloaded' });
  const again = await waitMap(page, 'after the reload');
  if (await dialogOpen(page)) fail('the sign-in form came back after a reload');
  if (!(again > 0)) fail(`after the reload the villages layer rendered no features (${again})`);
  ok(`reloaded: still signed in, ${again} village features rendered`);

  // 7. 退出登录: the token goes, the form comes back, the signed-in line hides.
  signedOut = true;
  await page.getByTestId('signout').click();
  await waitForm(page, 'after 退出登录');
  if (await storedToken(page)) fail('退出登录 left the token in localStorage');
  if (!(await page.getByTestId('signin-error').isHidden())) fail('the form after 退出登录 shows an error');
  if (await page.evaluate(() => !document.querySelector('[data-testid="auth-row"]').hidden)) fail('the signed-in line is still shown after 退出登录');
  ok('退出登录: the token is cleared, the form is back');

  // 8. A stored token the server refuses (revoked): the form again, saying why.
  await page.evaluate(() => window.localStorage.setItem('liancun.token', 'lc_revoked_or_unknown'));
  await page.reload({ waitUntil: 'domcontentloaded' });
  await waitForm(page, 'with a refused stored token');
  await waitFor(page, () => document.querySelector('[data-testid="signin-error"]')?.textContent.includes('已失效'), null, 10000, 'the form to say the token is no longer accepted (已失效)');
  if (await storedToken(page)) fail('the refused token was kept');
  ok(`a refused stored token: "${(await page.getByTestId('signin-error').textContent()).trim()}", dropped`);

  // 9. Signing in again from there brings the map.
  signedOut = false;
  await submit(page, token);
  const back = await waitMap(page, 'after signing in again');
  if (await dialogOpen(page)) fail('the form stayed open after signing in again');
  ok(`signed in again: ${back} village features rendered`);

  if (problems.length) fail(`${problems.length} browser error(s):\n  ${problems.join('\n  ')}`);
}

await runScript('signin', run, { limitS: 180, passed, browser: () => browser, problems });
