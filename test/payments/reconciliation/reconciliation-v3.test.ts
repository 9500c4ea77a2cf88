/**
 * Reconciling a day through APIv3 against the sandbox: the trade and fund-flow bills are
 * streamed and their SHA1 checked at the end. A download altered on the way (a proxy in front
 * of the sandbox flips a byte, or cuts the gzip short) fails the run with nothing staged, no
 * item and no event; the next clean download reconciles the day. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { type TestContext, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { request } from 'undici';
import { dayOf, GatewayError } from '../../../src/payments/index.js';
import { liveDayMatchers } from '../../../src/payments/reconciliation/day-matcher.js';
import { startSandbox } from '../../../src/sandbox/index.js';
import { listenUntilEnd } from '../../support/listen.js';
import { sandboxGateway, startSandboxServer } from '../../support/sandbox-server.js';
import { describeOnStores } from '../../support/stores.js';

/** 10:00 Beijing tomorrow at the latest: today's bill is published. */
const BILL_PUBLISHED_MS = 34 * 3600_000;

type Tamper = 'none' | 'flip' | 'truncate';

/** Forwards everything to `target`, altering bill files as `state.tamper` says. */
async function tamperingProxy(t: TestContext, target: string) {
  const state = { tamper: 'none' as Tamper, tampered: 0 };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const headers = { ...req.headers };
    delete headers.connection;
    const answer = await request(`${target}${req.url}`, {
      method: req.method as 'GET',
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    let body: Buffer = Buffer.from(await answer.body.arrayBuffer());
    if (req.url?.startsWith('/v3/billdownload/file') && state.tamper !== 'none') {
      state.tampered++;
      body = tampered(body, state.tamper);
    }
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !['content-length', 'transfer-encoding'].includes(name)) {
        out[name] = value;
      }
    }
    res.writeHead(answer.statusCode, out);
    res.end(body);
  });
  return { state, url: await listenUntilEnd(t, server) };
}

function tampered(gzipped: Buffer, how: Tamper): Buffer {
  if (how === 'truncate') return gzipped.subarray(0, gzipped.length - 20);
  const text = gunzipSync(gzipped);
  const at = text.lastIndexOf('`6.00');
  text[at + 1] = '7'.charCodeAt(0); // one amount of the text changed
  return gzipSync(text);
}

describeOnStores('reconciliation through APIv3', (stores) => {
  test('both bills streamed with their SHA1 checked; an altered download fails the run and keeps nothing', async (t) => {
    const sandbox = await startSandbox({ timeScale: 1000 });
    t.after(() => sandbox.close());
    const proxy = await tamperingProxy(t, sandbox.url);
    const gateway = sandboxGateway(sandbox, 'v3', proxy.url);
    t.after(() => gateway.close());
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      sandboxInstance: sandbox,
      gateway,
    });
    const order = await s.paidOrder(1); // 600 fen, 4 fen fee
    const day = dayOf(new Date());
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const engine = s.server.payments.reconciliation;
    const db = s.server.store.db;

    for (const how of ['flip', 'truncate'] as const) {
      proxy.state.tamper = how;
      await assert.rejects(
        engine.run(day),
        (e: unknown) =>
          e instanceof GatewayError &&
          e.kind === 'invalid' &&
          e.code === (how === 'flip' ? 'BAD_HASH' : 'MALFORMED_BILL'),
        how,
      );
      const run = await db
        .selectFrom('reconciliation_runs')
        .selectAll()
        .where('day', '=', day)
        .executeTakeFirstOrThrow();
      assert.equal(run.status, 'failed', how);
      assert.match(run.error ?? '', how === 'flip' ? /SHA1/ : /gzip/, how);
      assert.equal(run.totals, null, 'no totals of a bill that failed');
      assert.equal(liveDayMatchers(), 0, 'nothing staged is kept');
      const items = await db.selectFrom('reconciliation_items').select('id').execute();
      assert.deepEqual(items, []);
      const events = await db
        .selectFrom('order_events')
        .select('id')
        .where('type', 'like', 'reconciliation.%')
        .execute();
      assert.deepEqual(events, [], 'a failed run writes no event');
    }
    assert.ok(proxy.state.tampered >= 2);

    proxy.state.tamper = 'none';
    const run = await engine.run(day);
    assert.equal(run.status, 'matched');
    assert.deepEqual([run.totals.bill.payments.count, run.totals.bill.payments.fen], [1, 600]);
    assert.deepEqual(run.totals.fundFlow, {
      count: 2,
      incomeCount: 1,
      incomeFen: 600,
      expenseCount: 1,
      expenseFen: 4,
    });
    assert.match(run.billSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(run.fundFlowSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.equal(liveDayMatchers(), 0);
    assert.ok(order);
  });
});
