// Helpers shared by the browser tests (browser.mjs, signin.mjs): Chromium's launch flags, a
// step log with a pass count, failing with a message, and waiting for the page and the map.
import { chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// WebGL in headless Chromium: ANGLE on SwiftShader (software Vulkan). Chromium 156 falls back to
// it by itself when there is no GPU, but the fallback is deprecated upstream, so ask for it
// explicitly; --enable-unsafe-swiftshader keeps WebGL allowed on the software renderer.
export const CHROMIUM_ARGS = [
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

/** Headless Chromium (Debian's, no browser download). */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A failed check (its message is the whole report); anything else thrown is a crash of the test. */
export class Failure extends Error {}

export const fail = (msg) => {
  throw new Failure(msg);
};

/** `log(msg)` with the seconds since start, `ok(msg)` a passed step; `passed()` counts them. */
export function reporter(tag) {
  const t0 = Date.now();
  let passed = 0;
  const log = (msg) => console.log(`[${tag} ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}`);
  const ok = (msg) => {
    passed += 1;
    log(`ok   ${msg}`);
  };
  return { log, ok, passed: () => passed };
}

export async function waitFor(page, fn, arg, timeout, what) {
  try {
    await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch {
    fail(`timed out after ${timeout / 1000} s waiting for ${what}`);
  }
}

/** Resolves once the map is idle (no camera movement, tiles loaded). */
export function mapSettled(page) {
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

/**
 * Runs a test script's `run()` under a whole-test time guard, prints the summary and exits:
 * 0 when every step passed, 1 on the first failure (with the browser errors seen, if any).
 * `browser()` gives the browser to close, `problems` the console errors collected.
 */
export async function runScript(tag, run, { limitS, passed, browser, problems }) {
  const guard = setTimeout(() => {
    console.error(`[${tag}] FAIL: the whole test took more than ${limitS} s`);
    browser()?.close().finally(() => process.exit(1));
  }, limitS * 1000);
  try {
    await run();
    console.log(`${tag}: ${passed()} passed, 0 failed`);
    await browser()?.close();
    clearTimeout(guard);
    process.exit(0);
  } catch (e) {
    console.error(`[${tag}] FAIL: ${e instanceof Failure ? e.message : e?.stack ?? e}`);
    if (problems.length && !(e instanceof Failure && /browser error/.test(e.message))) {
      console.error(`[${tag}] browser errors seen:\n  ${problems.join('\n  ')}`);
    }
    console.log(`${tag}: ${passed()} passed, 1 failed`);
    await browser()?.close().catch(() => {});
    clearTimeout(guard);
    process.exit(1);
  }
}
