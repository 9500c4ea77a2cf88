/**
 * `minipay reconcile` in a child process against a sandbox and a ledger the real server made:
 * --date (asks the sandbox, records the run), --bill (offline, changes nothing), exit codes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { dayOf } from '../../../src/payments/index.js';
import { merchantEnv, minipayExit } from '../../support/cli.js';
import { type SandboxServer, startSandboxServer } from '../../support/sandbox-server.js';
import { describeOnStores } from '../../support/stores.js';

const run = (args: string[], env: Record<string, string>) =>
  minipayExit(['reconcile', ...args], env);

describeOnStores('minipay reconcile', (stores) => {
  test('--date: not ready (3), then the day with a repair and a difference (1), then clean (0)', async (t) => {
    const url = await stores.freshUrl();
    const s = await startSandboxServer(t, url);
    const env = merchantEnv(s, url);
    const silent = await s.silentlyPaidOrder(1);
    const missing = await s.paidOrder(1);
    const day = dayOf(new Date());

    const early = await run(['--date', day], env);
    assert.equal(early.code, 3, early.stderr);
    assert.match(early.stderr, /not ready/);

    s.sandbox.advanceClock(34 * 3600_000);
    await s.sandbox.setFaults({
      billRows: { omit: [missing.outTradeNo], amountFen: {}, extra: 0, foreign: 0 },
    });
    const found = await run(['--date', day], env);
    assert.equal(found.code, 1, found.stderr);
    assert.match(found.stdout, new RegExp(`minipay reconcile ${day}: 1 difference`));
    assert.match(found.stdout, /bill: {4}1 payments 6\.00 yuan, 0 refunds/);
    assert.match(found.stdout, /ledger: {2}1 payments 6\.00 yuan/, 'as it stood before the repair');
    assert.match(found.stdout, new RegExp(`repaired paid_not_recorded ${silent.outTradeNo}`));
    assert.match(found.stdout, new RegExp(`recorded_not_billed ${missing.outTradeNo}`));
    const order = await s.server.store.db
      .selectFrom('orders')
      .select('status')
      .where('id', '=', silent.id)
      .executeTakeFirstOrThrow();
    assert.equal(order.status, 'PAID', 'repaired by the command');

    await s.sandbox.setFaults({ billRows: { omit: [], amountFen: {}, extra: 0, foreign: 0 } });
    const clean = await run(['--date', day], env);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /: matched/);
  });

  test('--bill: a downloaded bill against the ledger, offline, nothing written', async (t) => {
    const url = await stores.freshUrl();
    const s = await startSandboxServer(t, url);
    const env = merchantEnv(s, url);
    const paid = await s.paidOrder(1);
    const day = dayOf(new Date());
    s.sandbox.advanceClock(34 * 3600_000);
    const res = await fetch(`${s.sandbox.url}/sandbox/v1/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ billRows: { amountFen: { [paid.outTradeNo]: 599 } } }),
    });
    assert.equal(res.status, 200);
    const bill = await downloadBill(s, day);
    const dir = mkdtempSync(join(tmpdir(), 'minipay-bill-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'bill.csv.gz');
    writeFileSync(file, gzipSync(bill));

    const offline = await run(['--bill', file], env);
    assert.equal(offline.code, 1, offline.stderr);
    assert.match(offline.stdout, new RegExp(`${day} \\(offline`));
    assert.match(
      offline.stdout,
      new RegExp(`amount_mismatch ${paid.outTradeNo}: 600 fen here, 599 fen at WeChat`),
    );
    const written = await s.server.store.db.selectFrom('reconciliation_runs').selectAll().execute();
    assert.deepEqual(written, [], 'offline changes nothing');
    const anomalies = await s.server.store.db.selectFrom('anomalies').selectAll().execute();
    assert.deepEqual(anomalies, []);

    const broken = join(dir, 'broken.csv');
    writeFileSync(
      broken,
      bill.replace(/总交易单数[^\n]*\n`1/, (m) => m.replace(/`1$/, '`2')),
    );
    const refused = await run(['--bill', broken], env);
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /MALFORMED_BILL: .*总交易单数/);

    const usage = await run(['--date', '2026-02-30'], env);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--date must be a day/);
    const nothing = await run([], env);
    assert.equal(nothing.code, 2);
    const demo = await run(['--date', day], { MINIPAY_DATABASE_URL: url });
    assert.equal(demo.code, 3);
    assert.match(demo.stderr, /demo mode has no WeChat to ask/);
  });
});

/** The day's bill as the sandbox serves it (plain text). */
async function downloadBill(s: SandboxServer, day: string): Promise<string> {
  const { WechatPayV2Client } = await import('../../../src/wechatpay/index.js');
  const c = s.sandbox.credentials;
  const client = new WechatPayV2Client({
    baseUrl: s.sandbox.url,
    appId: c.appId,
    mchId: c.mchId,
    key: c.mchKey,
  });
  try {
    return (await client.downloadBill({ billDate: day.replaceAll('-', '') }))!;
  } finally {
    await client.close();
  }
}
