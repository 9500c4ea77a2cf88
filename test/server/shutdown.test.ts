/**
 * Shutdown: close() lets a running request finish, then must not wait for its keep-alive
 * connection to time out (Fastify's keepAliveTimeout is 72 s).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, startDemo } from '../support/demo.js';

/** True once the server turns new connections away (closing: refused or 503). */
function refusesNewWork(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 503);
    });
    req.on('error', () => resolve(true));
    req.end();
  });
}

test('a request running when close() starts finishes with Connection: close, and close() does not wait for its socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-shutdown-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let entered!: () => void;
  const inHandler = new Promise<void>((resolve) => {
    entered = resolve;
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const demo = await startDemo(undefined, `sqlite:${join(dir, 'db.sqlite')}`, {
    jobs: false,
    plugins: [
      async (app) => {
        app.get('/test/slow', async () => {
          entered();
          await gate;
          return { ok: true };
        });
      },
    ],
  });
  t.after(() => demo.launched.close());

  // A keep-alive client, as WeChat's notifier and mini programs are.
  const agent = new Agent({ keepAlive: true });
  t.after(() => agent.destroy());
  const answered = new Promise<{ status: number; connection: string | undefined }>(
    (resolve, reject) => {
      const req = request(`${demo.url}/test/slow`, { agent }, (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }),
        );
      });
      req.on('error', reject);
      req.end();
    },
  );
  await inHandler;
  let closed = false;
  const closing = demo.launched.server.close().then(() => {
    closed = true;
  });
  // close() has begun (new work is refused) before the running request answers.
  await eventually(() => refusesNewWork(demo.url), 10_000, 'the server refusing new work');
  release();
  const answer = await answered;
  assert.equal(answer.status, 200, 'the running request was allowed to finish');
  assert.equal(answer.connection, 'close', 'its connection is not kept alive past shutdown');
  const deadline = new Promise((r) => setTimeout(r, 10_000).unref());
  await Promise.race([closing, deadline]);
  assert.ok(closed, 'close() finished without waiting out the keep-alive timeout');
});
