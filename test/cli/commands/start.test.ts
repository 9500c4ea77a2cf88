import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isLoopback } from '../../../src/app/launch.js';
import { UsageError } from '../../../src/cli/command.js';
import { startOverrides } from '../../../src/cli/commands/start.js';
import { minipay } from '../../support/cli.js';
import { eventually } from '../../support/demo.js';

describe('minipay start (command line)', () => {
  test('--port and --host override the environment; anything else is a usage error', () => {
    assert.deepEqual(startOverrides(['--port', '0', '--host', '0.0.0.0']), {
      env: { MINIPAY_PORT: '0', MINIPAY_HOST: '0.0.0.0' },
      unsafePublicDemo: false,
    });
    assert.equal(startOverrides(['--unsafe-public-demo']).unsafePublicDemo, true);
    assert.throws(() => startOverrides(['--bogus']), UsageError);
    assert.throws(() => startOverrides(['x']), UsageError);
  });

  test('demo mode: prints the page URLs first, the admin token, serves, stops cleanly on SIGTERM', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-start-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = minipay(['start', '--port', '0'], {
      MINIPAY_DATABASE_URL: `sqlite:${join(dir, 'data', 'minipay.sqlite')}`,
    });
    t.after(() => run.child.kill('SIGKILL'));
    const [, api] = await run.waitFor(/Mini program API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/);
    const [, token] = await run.waitFor(/Admin API token\s+(\S+)/);
    const { stdout } = run.output();
    assert.match(stdout, /demo mode/);
    assert.match(stdout, /public demo key, so it listens on this machine only/);
    const urls = stdout.match(/http:\/\/\S+/g) ?? [];
    assert.deepEqual(
      urls.slice(0, 2),
      [`${api}/demo/`, `${api}/admin/`],
      'the demo and the console come first',
    );
    assert.equal((await fetch(`${api}/demo/config.json`)).status, 200);
    assert.match(stdout, /Sandbox \(WeChat\)\s+http:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(stdout, /"level"/, 'logs go to stderr, not into the banner');
    assert.equal((await fetch(`${api}/readyz`)).status, 200);
    const products = await fetch(`${api}/api/v1/products`);
    assert.equal(products.status, 200);
    const session = await fetch(`${api}/admin/v1/session`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(session.status, 200);
    run.child.kill('SIGTERM');
    const [exitCode] = await once(run.child, 'exit');
    assert.equal(exitCode, 0);
    // Node prints process warnings (Fastify's deprecations among them) as "(node:PID) [CODE] …".
    assert.doesNotMatch(run.output().stderr, /\(node:\d+\)|Warning/, 'no warning for a newcomer');
  });

  test('MINIPAY_SHUTDOWN_DRAIN_SECONDS: on SIGTERM /readyz answers 503 and requests are still served, then it stops', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-start-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = minipay(['start', '--port', '0'], {
      MINIPAY_DATABASE_URL: `sqlite:${join(dir, 'minipay.sqlite')}`,
      MINIPAY_SHUTDOWN_DRAIN_SECONDS: '30',
    });
    t.after(() => run.child.kill('SIGKILL'));
    const [, api] = await run.waitFor(/Mini program API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/);
    assert.equal((await fetch(`${api}/readyz`)).status, 200);
    assert.equal((await fetch(`${api}/readyz`)).headers.get('connection'), 'keep-alive');
    run.child.kill('SIGTERM');
    await eventually(async () => /draining for 30 s/.test(run.output().stderr), 30_000, 'draining');
    const ready = await fetch(`${api}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { ok: false, draining: true });
    const products = await fetch(`${api}/api/v1/products`);
    assert.equal(products.status, 200, 'still serving');
    assert.equal(products.headers.get('connection'), 'close', 'the client reconnects elsewhere');
    assert.equal(run.child.exitCode, null, 'still running while draining');
    run.child.kill('SIGKILL');
    await once(run.child, 'exit');
  });

  test('loopback is this machine only', () => {
    for (const host of [
      '127.0.0.1',
      '127.8.9.1',
      '::1',
      '[::1]',
      'localhost',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(isLoopback(host), true, host);
    }
    for (const host of [
      '0.0.0.0',
      '::',
      '192.168.1.5',
      '10.0.0.1',
      'pay.example.com',
      '128.0.0.1',
    ]) {
      assert.equal(isLoopback(host), false, host);
    }
  });

  test('demo mode refuses a public --host, saying why; --unsafe-public-demo forces it, with a warning', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-start-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const env = { MINIPAY_DATABASE_URL: `sqlite:${join(dir, 'minipay.sqlite')}` };
    const refused = minipay(['start', '--port', '0', '--host', '0.0.0.0'], env);
    const [exitCode] = await once(refused.child, 'exit');
    assert.equal(exitCode, 1);
    assert.match(refused.output().stderr, /demo mode will not listen on 0\.0\.0\.0/);
    assert.match(refused.output().stderr, /anyone who can reach the server could sign payment/);
    assert.match(refused.output().stderr, /--unsafe-public-demo/);
    assert.equal(refused.output().stdout, '', 'nothing started');

    const forced = minipay(
      ['start', '--port', '0', '--host', '0.0.0.0', '--unsafe-public-demo'],
      env,
    );
    t.after(() => forced.child.kill('SIGKILL'));
    await forced.waitFor(/Mini program API\s+http:\/\/\S+\/api\/v1/);
    assert.match(
      forced.output().stdout,
      /WARNING: listening on 0\.0\.0\.0 \(--unsafe-public-demo\)/,
    );
    forced.child.kill('SIGTERM');
    await once(forced.child, 'exit');
  });

  test('half-configured credentials stop start-up with every problem listed, exit code 1', async () => {
    const run = minipay(['start'], { MINIPAY_APPID: 'wx0123456789abcdef', MINIPAY_PORT: 'x' });
    const [exitCode] = await once(run.child, 'exit');
    assert.equal(exitCode, 1);
    const { stderr } = run.output();
    assert.match(stderr, /MINIPAY_MCH_KEY is not set/);
    assert.match(stderr, /MINIPAY_PORT must be a whole number/);
    assert.match(stderr, /MINIPAY_NOTIFY_BASE_URL is not set/);
  });
});
