// Browser-test harness: a throwaway Passerelle (own database, own master
// key, demo organisations and accounts, own port) and Debian's Chromium
// driven by playwright-core. Every browser test uses it:
//
//   import { begin } from './lib/harness.mjs';
//   const h = await begin('caseworker');      // name of the artefact folder
//   const page = await h.newPage({ tag: 'police' }); // fresh context (own cookies), at /
//   await h.login(page, 'police.agent');       // demo password, waits for the first page
//   // The shell sets #page[data-route="<route without #/>"] once a page is shown:
//   await page.waitForSelector('#page[data-route="stats"] .page:not([aria-busy])');
//   await h.shot(page, 'home');                // tests/artifacts/browser/caseworker/01-home.png
//   await h.check('the home page lists the case', async () => { assert.ok(...) });
//   process.exitCode = await h.end();          // prints "N checks passed, M failed", stops all
//
// begin(name, { env }) also accepts extra PASSERELLE_* settings for the server.
// h.url is the server's base URL; h.api(username) returns { call(method, path,
// body) } speaking JSON with that user's session and CSRF token (to set up
// data without the browser). h.newPage({ viewport, locale }) opens a page in
// a new context and records its console errors and uncaught exceptions;
// h.end() fails the run when there was any (a check named "no console error");
// a 4xx answer from /api/ is not counted (the page shows it to the person).
// A check that throws is recorded as failed with its message; the run goes on.
// Environment (set by scripts/test): PASSERELLE_BIN, PASSERELLE_SOURCE_DIR,
// PASSERELLE_CHROMIUM, PASSERELLE_TEST_DATABASE_URL (a PostgreSQL where the
// test may CREATE DATABASE). psql must be installed.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import { chromium } from 'playwright-core';

export const DEMO_PASSWORD = 'Passerelle-Demo-2026';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];

function env(name, def) {
  const v = process.env[name];
  return v !== undefined && v !== '' ? v : def;
}

function withDb(url, db) {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const u = new URL(url);
    u.pathname = `/${db}`;
    return u.toString();
  }
  return `${url} dbname=${db}`;
}

function psql(url, sql) {
  execFileSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { stdio: ['ignore', 'ignore', 'pipe'] });
}

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

// The child's environment: ours without PASSERELLE_ settings (but the test
// run's marker), plus the given ones.
function childEnv(extra) {
  const e = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('PASSERELLE_') || k.startsWith('PASSERELLE_TEST_')) e[k] = v;
  return Object.assign(e, extra);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function begin(name, opts = {}) {
  const bin = env('PASSERELLE_BIN', 'build/passerelle');
  const src = resolve(env('PASSERELLE_SOURCE_DIR', '.'));
  const admin = env('PASSERELLE_TEST_DATABASE_URL');
  if (!admin) throw new Error('PASSERELLE_TEST_DATABASE_URL is not set (scripts/test sets it)');
  const artefacts = join(src, 'tests', 'artifacts', 'browser', name);
  rmSync(artefacts, { recursive: true, force: true });
  mkdirSync(artefacts, { recursive: true });
  const dir = mkdtempSync(join(tmpdir(), `passerelle_bt_${name}_`));
  const dbName = `passerelle_bt_${name.replace(/\W/g, '_')}_${process.pid}_${Date.now() % 100000}`;
  const dbUrl = withDb(admin, dbName);
  const results = [];
  const consoleErrors = [];
  let server = null, browser = null, shotNo = 0, pages = 0, ended = false;

  async function stop() {
    if (browser) { await browser.close().catch(() => {}); browser = null; }
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      for (let i = 0; i < 100 && server.exitCode === null; i++) await sleep(100);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    server = null;
    try { psql(admin, `DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
  const onExit = () => { if (server && server.exitCode === null) server.kill('SIGKILL'); };
  process.on('exit', onExit);
  for (const sig of ['SIGINT', 'SIGTERM'])
    process.on(sig, () => { stop().finally(() => process.exit(1)); });

  try {
    psql(admin, `CREATE DATABASE "${dbName}"`);
    const key = join(dir, 'master.key');
    const base = { PASSERELLE_DATABASE_URL: dbUrl, PASSERELLE_KEY_FILE: key,
      PASSERELLE_SOP: join(src, 'sop', 'mali.json'),
      // cases registered by a test are counted at once (production: month)
      PASSERELLE_STATS_FREEZE: 'none' };
    execFileSync(bin, ['keygen', '--out', key], { env: childEnv(base), stdio: 'pipe' });
    execFileSync(bin, ['migrate'], { env: childEnv(base), stdio: 'pipe' });
    execFileSync(bin, ['seed', '--demo'], { env: childEnv(base), stdio: 'pipe' });
    const port = await freePort();
    const log = join(dir, 'server.log');
    const { openSync } = await import('node:fs');
    const fd = openSync(log, 'w', 0o600);
    server = spawn(bin, ['serve'], {
      env: childEnv({ ...base, PASSERELLE_LISTEN: `127.0.0.1:${port}`,
        PASSERELLE_WEB_ROOT: join(src, 'web'), PASSERELLE_THREADS: '4', ...(opts.env || {}) }),
      stdio: ['ignore', fd, fd],
    });
    const url = `http://127.0.0.1:${port}`;
    let ready = false;
    for (let i = 0; i < 150 && !ready; i++) {
      if (server.exitCode !== null) break;
      try { ready = (await fetch(`${url}/readyz`)).status === 200; } catch { /* not yet */ }
      if (!ready) await sleep(100);
    }
    if (!ready) throw new Error(`the server did not become ready:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    browser = await chromium.launch({
      executablePath: env('PASSERELLE_CHROMIUM', '/usr/bin/chromium'), args: CHROMIUM_ARGS,
    });

    const h = {
      url, dbUrl, artefacts, browser,
      async newPage(o = {}) {
        const context = await browser.newContext({
          viewport: o.viewport || { width: 1366, height: 768 }, locale: o.locale || 'fr-FR',
          acceptDownloads: true, baseURL: url,
        });
        const page = await context.newPage();
        pages += 1;
        const tag = o.tag || `page${pages}`;
        page.on('console', (m) => {
          if (m.type() !== 'error') return;
          // An API answer of 4xx is an expected outcome the page shows to
          // the person (401 after expiry, 404, 409, 422); Chromium still
          // logs it. Anything else (a missing file, a script error) counts.
          const where = (m.location() && m.location().url) || '';
          if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) &&
              where.startsWith(`${url}/api/`)) return;
          consoleErrors.push(`${tag}: ${m.text()} ${where} (${page.url()})`);
        });
        page.on('pageerror', (e) => consoleErrors.push(`${tag}: uncaught ${e.message} (${page.url()})`));
        page.setDefaultTimeout(o.timeout || 10000);
        await page.goto(url + '/');
        return page;
      },
      async login(page, username, password = DEMO_PASSWORD) {
        await page.fill('#username', username);
        await page.fill('#password', password);
        await page.click('#login-form button[type=submit]');
        await page.waitForSelector('#nav:not([hidden])');
        await page.waitForSelector('#page[data-route] .page:not([aria-busy])');
      },
      async shot(page, step, o = {}) {
        shotNo += 1;
        const file = join(artefacts, `${String(shotNo).padStart(2, '0')}-${step}.png`);
        await page.screenshot({ path: file, fullPage: o.fullPage !== false });
        return file;
      },
      async check(desc, fn) {
        try {
          await fn();
          results.push({ desc, ok: true });
          console.log(`ok   - ${desc}`);
        } catch (e) {
          results.push({ desc, ok: false, err: e });
          console.log(`FAIL - ${desc}\n       ${String(e && e.message || e).split('\n').join('\n       ')}`);
        }
      },
      async api(username, password = DEMO_PASSWORD) {
        const r = await fetch(`${url}/api/v1/session`, { method: 'POST',
          headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username, password }) });
        if (r.status !== 200) throw new Error(`login ${username}: ${r.status}`);
        const cookie = r.headers.get('set-cookie').split(';')[0];
        const { csrf_token: csrf, user } = await r.json();
        return {
          user,
          async call(method, path, body) {
            const res = await fetch(url + path, { method,
              headers: { Cookie: cookie, 'X-CSRF-Token': csrf,
                ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
              body: body === undefined ? undefined : JSON.stringify(body) });
            const text = await res.text();
            let data = null;
            try { data = text ? JSON.parse(text) : null; } catch { data = text; }
            return { status: res.status, data };
          },
        };
      },
      consoleErrors,
      async end() {
        if (ended) return 1;
        ended = true;
        results.push({ desc: 'no console error on any page', ok: consoleErrors.length === 0,
          err: new Error(consoleErrors.join('\n')) });
        console.log(`${consoleErrors.length === 0 ? 'ok  ' : 'FAIL'} - no console error on any page`);
        for (const c of consoleErrors) console.log(`       ${c}`);
        await stop();
        process.removeListener('exit', onExit);
        const passed = results.filter((r) => r.ok).length;
        const failed = results.length - passed;
        console.log(`\n${name}: ${passed} checks passed, ${failed} failed (screenshots in ${artefacts})`);
        return failed === 0 ? 0 : 1;
      },
    };
    return h;
  } catch (e) {
    await stop();
    throw e;
  }
}
