/**
 * The server's socket deadlines are the documented 30 s (docs/configuration.md): a whole
 * request, headers and body, within MINIPAY_REQUEST_TIMEOUT_SECONDS, an idle keep-alive
 * connection closed after MINIPAY_KEEP_ALIVE_SECONDS. The behaviour is checked with both set to
 * 1 s (the same code path), polling for the socket to close rather than timing it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/app/config.js';
import { KEEP_ALIVE_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../src/server/app.js';
import { eventually } from '../support/demo.js';
import { MemoryGateway } from '../support/memory-gateway.js';
import { startTestServer } from '../support/server.js';

async function serve(t: import('node:test').TestContext, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-timeouts-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { requestTimeoutSeconds, keepAliveSeconds } = loadConfig(env);
  const server = await startTestServer({
    databaseUrl: `sqlite:${join(dir, 'db.sqlite')}`,
    gateway: new MemoryGateway(),
    config: { requestTimeoutSeconds, keepAliveSeconds },
  });
  t.after(() => server.close());
  return server;
}

/** A raw socket that records what it receives and whether it was closed. */
function socket(url: string) {
  const { port } = new URL(url);
  const s: Socket = connect(Number(port), '127.0.0.1');
  const seen = { data: '', closed: false };
  s.setEncoding('utf8');
  s.on('data', (chunk: string) => {
    seen.data += chunk;
  });
  s.on('error', () => undefined);
  s.on('close', () => {
    seen.closed = true;
  });
  return { s, seen };
}

test('the defaults are 30 s, as documented', async (t) => {
  const config = loadConfig({});
  assert.equal(config.requestTimeoutSeconds, 30);
  assert.equal(config.keepAliveSeconds, 30);
  assert.equal(REQUEST_TIMEOUT_MS, 30_000);
  assert.equal(KEEP_ALIVE_TIMEOUT_MS, 30_000);
  const server = await serve(t);
  const node = server.app.server;
  assert.equal(node.requestTimeout, 30_000);
  assert.equal(node.headersTimeout, 30_000, 'headers share the request deadline (Node: 60 s)');
  assert.equal(node.keepAliveTimeout, 30_000, "not Fastify's 72 s");
});

test('a slow body, a silent socket and an idle keep-alive connection are closed; others are served', async (t) => {
  const server = await serve(t, {
    MINIPAY_REQUEST_TIMEOUT_SECONDS: '1',
    MINIPAY_KEEP_ALIVE_SECONDS: '1',
  });
  const slow = socket(server.url);
  slow.s.write(
    'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"code":"',
  );
  const trickle = setInterval(() => slow.s.write('a'), 50);
  t.after(() => clearInterval(trickle));
  const silent = socket(server.url);
  const idle = socket(server.url);
  idle.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');

  // Others are served meanwhile.
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  await eventually(async () => slow.seen.closed && silent.seen.closed && idle.seen.closed, 20_000);
  clearInterval(trickle);
  assert.match(slow.seen.data, /^HTTP\/1\.1 408 /, 'the slow body is told 408');
  assert.match(silent.seen.data, /^HTTP\/1\.1 408 /, 'so is a socket that never sends');
  assert.match(idle.seen.data, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(idle.seen.data, /408/, 'the idle one was answered, then closed');
  const sessions = await server.store.db.selectFrom('sessions').selectAll().execute();
  assert.equal(sessions.length, 0, 'the unfinished login did nothing');
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
});
