/**
 * Serving the web pages: built files with the right headers, the demo's config, the sandbox's
 * user-side endpoints forwarded in demo mode only, and the API's 404 left alone.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Fastify from 'fastify';
import type { Config } from '../../src/app/config.js';
import type { LaunchContext } from '../../src/app/launch.js';
import { webPages } from '../../src/server/web-pages.js';
import { startDemo } from '../support/demo.js';

/** A dist/web lookalike: two pages and a hashed asset. */
function fakeBuild(t: { after(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'minipay-webroot-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  for (const page of ['demo', 'admin']) {
    mkdirSync(join(root, page), { recursive: true });
    writeFileSync(join(root, page, 'index.html'), `<!doctype html><title>${page}</title>`);
  }
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'assets', 'admin-Ab12Cd34.js'), 'export {};');
  return root;
}

async function liveApp(root: string) {
  const app = Fastify();
  const context = { config: { mode: 'live' } as Config, sandbox: undefined } as LaunchContext;
  await app.register(async (scope) => webPages({ root })(scope, context));
  return app;
}

describe('web pages', () => {
  test('pages: CSP and no-cache on HTML, immutable hashed assets, /admin redirects to /admin/', async (t) => {
    const app = await liveApp(fakeBuild(t));
    const page = await app.inject('/admin/');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<title>admin<\/title>/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    const asset = await app.inject('/assets/admin-Ab12Cd34.js');
    assert.equal(asset.statusCode, 200);
    assert.match(String(asset.headers['cache-control']), /immutable/);
    const bare = await app.inject('/admin');
    assert.equal(bare.statusCode, 301);
    assert.equal(bare.headers.location, '/admin/');
    assert.equal((await app.inject('/admin/nothing.js')).statusCode, 404);
  });

  test('live mode: the demo says so and nothing reaches a sandbox', async (t) => {
    const app = await liveApp(fakeBuild(t));
    const config = await app.inject('/demo/config.json');
    assert.deepEqual(config.json(), { mode: 'live' });
    for (const [method, url] of [
      ['POST', '/demo/sandbox/v1/login-code'],
      ['POST', '/demo/sandbox/v1/pay'],
      ['GET', '/demo/sandbox/v1/cashier'],
    ] as const) {
      assert.equal((await app.inject({ method, url })).statusCode, 404, url);
    }
  });

  test('not built: the pages answer 503 saying how to build them', async (t) => {
    const empty = mkdtempSync(join(tmpdir(), 'minipay-webroot-'));
    t.after(() => rmSync(empty, { recursive: true, force: true }));
    const app = await liveApp(empty);
    const res = await app.inject('/demo/');
    assert.equal(res.statusCode, 503);
    assert.match(res.body, /npm run build/);
  });

  test('demo mode: config, the user-side sandbox endpoints forwarded, nothing else', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-web-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const root = fakeBuild(t);
    const demo = await startDemo(t, `sqlite:${join(dir, 'db.sqlite')}`, {
      plugins: [webPages({ root })],
    });
    const config = await (await fetch(`${demo.url}/demo/config.json`)).json();
    assert.deepEqual(config, {
      mode: 'demo',
      appId: demo.sandbox.credentials.appId,
      sandboxBase: '/demo',
    });
    const code = await fetch(`${demo.url}/demo/sandbox/v1/login-code`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(code.status, 200);
    const issued = (await code.json()) as { code: string; openid: string };
    const login = await demo.api('POST', '/api/v1/login', { body: { code: issued.code } });
    assert.equal(login.status, 200, 'a code from the forwarded endpoint logs in');

    const refused = await fetch(`${demo.url}/demo/sandbox/v1/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ openid: issued.openid, bogus: 1 }),
    });
    assert.equal(refused.status, 400, "the sandbox's own validation answers through");
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'VALIDATION_FAILED',
    );

    const cashier = await fetch(`${demo.url}/demo/sandbox/v1/cashier?package=x`);
    assert.equal(cashier.status, 200);
    assert.match(String(cashier.headers.get('content-security-policy')), /script-src 'nonce-/);
    assert.match(await cashier.text(), /微信支付/);

    for (const path of ['/demo/sandbox/v1/faults', '/demo/sandbox/v1/notifications']) {
      assert.equal((await fetch(demo.url + path)).status, 404, `${path} is not the user's`);
    }
    // Unknown admin paths keep the API's JSON 404 (after the admin token check).
    assert.equal((await demo.api('GET', '/admin/v1/nothing-here')).status, 401);
    const unknown = await demo.api('GET', '/admin/v1/nothing-here', {
      token: demo.launched.adminToken,
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error?.code, 'NOT_FOUND');
  });
});
