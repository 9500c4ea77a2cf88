/**
 * Reconciling a day end to end: the real server's domain against the sandbox over loopback, the
 * sandbox's bills made to disagree by its `billRows` fault. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  tradeBillFrom,
  WechatPayV2Gateway,
} from '../../../src/payments/gateway/wechatpay-v2-gateway.js';
import { dayOf, GatewayError, type Order } from '../../../src/payments/index.js';
import { liveDayMatchers } from '../../../src/payments/reconciliation/day-matcher.js';
import { startSandbox } from '../../../src/sandbox/index.js';
import { hasOpenssl, makeCertificates } from '../../support/certificates.js';
import { type SandboxServer, startSandboxServer, until } from '../../support/sandbox-server.js';
import { describeOnStores } from '../../support/stores.js';

/** 10:00 Beijing tomorrow at the latest: today's bill is published. */
const BILL_PUBLISHED_MS = 34 * 3600_000;
let keys = 0;

async function refunded(s: SandboxServer, order: Order, amountFen: number) {
  const r = await s.admin('POST', `/admin/v1/orders/${order.id}/refunds`, {
    body: { amountFen },
    headers: { 'idempotency-key': `reconciliation-${process.pid}-${++keys}` },
  });
  assert.equal(r.status, 201, r.text);
  const id = (r.json as { refund: { id: string; outRefundNo: string } }).refund;
  await until(async () => {
    const row = await s.server.store.db
      .selectFrom('refunds')
      .select('status')
      .where('id', '=', id.id)
      .executeTakeFirstOrThrow();
    return row.status === 'SUCCESS';
  });
  return id.outRefundNo;
}

function items(s: SandboxServer, day: string) {
  return s.server.store.db
    .selectFrom('reconciliation_items')
    .select(['kind', 'key', 'status', 'order_id'])
    .where('day', '=', day)
    .orderBy('kind')
    .orderBy('key')
    .execute();
}

function anomalies(s: SandboxServer) {
  return s.server.store.db
    .selectFrom('anomalies')
    .select(['order_id', 'out_trade_no', 'detail'])
    .where('kind', '=', 'reconciliation')
    .orderBy('out_trade_no')
    .execute();
}

function versions(s: SandboxServer) {
  return s.server.store.db
    .selectFrom('orders')
    .select(['id', 'version', 'status'])
    .orderBy('id')
    .execute();
}

describeOnStores('reconciliation of a day', (stores) => {
  test('a clean day: not ready, then matched with its totals; a re-run changes nothing', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const a = await s.paidOrder(2); // 1200 fen
    const b = await s.paidOrder(1); // 600 fen
    await refunded(s, a, 500);
    const day = dayOf(new Date());
    const engine = s.server.payments.reconciliation;

    await assert.rejects(
      engine.run(day),
      (e: unknown) => e instanceof GatewayError && e.code === 'BILL_NOT_READY',
    );
    const waiting = await s.server.store.db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    assert.equal(waiting.status, 'waiting');
    assert.match(waiting.error ?? '', /not ready/);

    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const run = await engine.run(day);
    assert.equal(run.status, 'matched');
    assert.deepEqual(run.open, []);
    assert.deepEqual(run.repaired, []);
    const bill = run.totals.bill;
    assert.deepEqual([bill.payments.count, bill.payments.fen], [2, 1800]);
    assert.deepEqual([bill.refunds.count, bill.refunds.fen], [1, 500]);
    // The sandbox's fee: 0.60% rounded to the fen (7, 4), less 3 given back with the refund.
    assert.equal(bill.feeMilliFen, 8000);
    assert.equal(bill.netMilliFen, (1800 - 500) * 1000 - 8000);
    assert.deepEqual(run.totals.ledger, {
      payments: { count: 2, fen: 1800 },
      refunds: { count: 1, fen: 500 },
    });
    assert.match(run.billSha256 ?? '', /^[0-9a-f]{64}$/);
    const stored = await s.server.store.db
      .selectFrom('reconciliation_runs')
      .selectAll()
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      [stored.status, stored.differences, stored.bill_sha256, stored.error],
      ['matched', 0, run.billSha256, null],
    );
    assert.deepEqual(JSON.parse(stored.totals!), run.totals);
    assert.equal(liveDayMatchers(), 0, 'nothing staged is left behind');

    const before = await versions(s);
    const again = await engine.run(day);
    assert.deepEqual(again.totals, run.totals);
    assert.equal(again.billSha256, run.billSha256);
    assert.deepEqual(await versions(s), before);
    assert.deepEqual(await items(s, day), []);
    assert.ok(b);
  });

  test('each kind of difference: items and anomalies linked to their orders, stable on re-run', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const missing = await s.paidOrder(1);
    const different = await s.paidOrder(1);
    const fine = await s.paidOrder(2);
    const refundNo = await refunded(s, fine, 100);
    const day = dayOf(new Date());
    await s.sandbox.setFaults({
      billRows: {
        omit: [missing.outTradeNo, refundNo],
        amountFen: { [different.outTradeNo]: 601 },
        extra: 1,
        foreign: 1,
      },
    });
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const run = await s.server.payments.reconciliation.run(day);
    assert.equal(run.status, 'differences');
    const dayNo = day.replaceAll('-', '');
    const expected = [
      {
        kind: 'amount_mismatch',
        key: different.outTradeNo,
        status: 'open',
        order_id: different.id,
      },
      { kind: 'foreign_trade', key: `FOREIGN${dayNo}N1`, status: 'open', order_id: null },
      { kind: 'paid_not_recorded', key: `EXTRA${dayNo}N1`, status: 'open', order_id: null },
      {
        kind: 'recorded_not_billed',
        key: missing.outTradeNo,
        status: 'open',
        order_id: missing.id,
      },
      { kind: 'refund_not_billed', key: refundNo, status: 'open', order_id: fine.id },
    ];
    assert.deepEqual(await items(s, day), expected);
    assert.equal(run.totals.differences.amount_mismatch, 1);
    assert.equal(run.totals.bill.payments.count, 4, 'two of ours, the extra and the foreign row');
    const found = await anomalies(s);
    assert.equal(found.length, 5);
    const linked = found.filter((a) => a.order_id !== null).map((a) => a.order_id);
    assert.deepEqual(linked.sort(), [different.id, missing.id, fine.id].sort());
    assert.match(found.find((a) => a.order_id === different.id)!.detail, /601 fen at WeChat/);

    const before = await versions(s);
    const again = await s.server.payments.reconciliation.run(day);
    assert.deepEqual(again.totals, run.totals);
    assert.deepEqual(await items(s, day), expected);
    assert.equal((await anomalies(s)).length, 5, 'no anomaly twice');
    assert.deepEqual(await versions(s), before);
  });

  test('refunds: one WeChat made that is not SUCCESS here, one of another amount', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const first = await s.paidOrder(2);
    const second = await s.paidOrder(2);
    const mismatched = await refunded(s, first, 100);
    await s.sandbox.setFaults({ dropNotifyRate: 1 });
    const r = await s.admin('POST', `/admin/v1/orders/${second.id}/refunds`, {
      body: { amountFen: 200 },
      headers: { 'idempotency-key': `reconciliation-${process.pid}-${++keys}` },
    });
    assert.equal(r.status, 201, r.text);
    const unheard = (r.json as { refund: { outRefundNo: string } }).refund.outRefundNo;
    await until(() => s.sandbox.refund(unheard)?.status === 'SUCCESS');
    const day = dayOf(new Date());
    await s.sandbox.setFaults({
      billRows: { omit: [], amountFen: { [mismatched]: 150 }, extra: 0, foreign: 0 },
    });
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const run = await s.server.payments.reconciliation.run(day);
    assert.equal(run.status, 'differences');
    assert.deepEqual(await items(s, day), [
      { kind: 'refund_mismatch', key: mismatched, status: 'open', order_id: first.id },
      { kind: 'refund_not_recorded', key: unheard, status: 'open', order_id: second.id },
    ]);
    const detail = run.open.find((d) => d.kind === 'refund_mismatch')!.detail;
    assert.equal(detail, '100 fen here, 150 fen at WeChat');
    assert.deepEqual(run.totals.bill.refunds, { count: 2, fen: 350, refundFen: 350 });
    assert.deepEqual(run.totals.ledger.refunds, { count: 1, fen: 100 });
  });

  test('paid at WeChat, never notified: repaired through applyPaid, reported as repaired', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const silent = await s.silentlyPaidOrder(1);
    await s.paidOrder(1);
    const day = dayOf(new Date());
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const run = await s.server.payments.reconciliation.run(day);
    assert.equal(run.status, 'matched', 'a repaired day is green');
    assert.deepEqual(
      run.repaired.map((d) => [d.kind, d.key]),
      [['paid_not_recorded', silent.outTradeNo]],
    );
    const order = await s.server.store.db
      .selectFrom('orders')
      .selectAll()
      .where('id', '=', silent.id)
      .executeTakeFirstOrThrow();
    assert.equal(order.status, 'PAID');
    assert.equal(order.transaction_id, s.sandbox.trade(silent.outTradeNo)!.transactionId);
    const paid = await s.server.store.db
      .selectFrom('order_events')
      .select('type')
      .where('order_id', '=', silent.id)
      .where('type', '=', 'order.paid')
      .execute();
    assert.equal(paid.length, 1, 'order.paid, as after a notify');
    const repaired = [
      {
        kind: 'paid_not_recorded',
        key: silent.outTradeNo,
        status: 'repaired',
        order_id: silent.id,
      },
    ];
    assert.deepEqual(await items(s, day), repaired);
    assert.deepEqual(await anomalies(s), []);
    const stored = await s.server.store.db
      .selectFrom('reconciliation_runs')
      .select(['differences', 'repaired'])
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored, { differences: 1, repaired: 1 });

    const before = await versions(s);
    const again = await s.server.payments.reconciliation.run(day);
    assert.equal(again.status, 'matched');
    assert.deepEqual(again.repaired, []);
    assert.deepEqual(await versions(s), before, 'nothing changes the second time');
    assert.deepEqual(await items(s, day), repaired, 'the repair stays reported');
    assert.equal(again.repairedEarlier, 1);
    const storedAgain = await s.server.store.db
      .selectFrom('reconciliation_runs')
      .select(['differences', 'repaired'])
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    assert.deepEqual(storedAgain, { differences: 1, repaired: 1 });
  });

  test('money at WeChat for an order closed here: the anomaly a notify would give, still open', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const late = await s.silentlyPaidOrder(1);
    // Closed here while WeChat took the money (the close lost the race; see wechat-rules.md).
    await s.server.store.db
      .updateTable('orders')
      .set({ status: 'CLOSED', closed_at: new Date().toISOString() })
      .where('id', '=', late.id)
      .execute();
    const day = dayOf(new Date());
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const run = await s.server.payments.reconciliation.run(day);
    assert.equal(run.status, 'differences');
    assert.deepEqual(run.repaired, []);
    assert.deepEqual(await items(s, day), [
      { kind: 'paid_not_recorded', key: late.outTradeNo, status: 'open', order_id: late.id },
    ]);
    const kinds = await s.server.store.db
      .selectFrom('anomalies')
      .select('kind')
      .where('order_id', '=', late.id)
      .orderBy('kind')
      .execute();
    assert.deepEqual(
      kinds.map((k) => k.kind),
      ['paid_after_close', 'reconciliation'],
    );
    const order = await s.server.store.db
      .selectFrom('orders')
      .select(['status', 'refund_required'])
      .where('id', '=', late.id)
      .executeTakeFirstOrThrow();
    assert.equal(order.status, 'CLOSED');
    assert.equal(order.refund_required, 1, 'flagged for a refund, as after such a notify');
  });

  test('the fund-flow bill over mutual TLS: its totals kept; a refusal does not fail the day', {
    skip: !hasOpenssl && 'openssl is not installed',
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const certs = makeCertificates(dir);
    const sandbox = await startSandbox({
      timeScale: 1000,
      tls: { ...certs.server, clientCa: certs.ca },
    });
    t.after(() => sandbox.close());
    const c = sandbox.credentials;
    const gateway = new WechatPayV2Gateway({
      appId: c.appId,
      mchId: c.mchId,
      mchKey: c.mchKey,
      signType: 'MD5',
      payBaseUrl: sandbox.url,
      tls: certs.client,
      ca: certs.server.cert,
      timeoutMs: 5000,
      retry: { attempts: 1, delayMs: 10 },
    });
    t.after(() => gateway.close());
    const s = await startSandboxServer(t, await stores.freshUrl(), {
      sandboxInstance: sandbox,
      gateway,
    });
    const order = await s.paidOrder(1); // 600 fen, 4 fen fee
    await refunded(s, order, 200); // 1 fen of fee given back
    const day = dayOf(new Date());
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const engine = s.server.payments.reconciliation;

    const read = await engine.run(day);
    assert.equal(read.status, 'matched');
    assert.deepEqual(read.totals.fundFlow, {
      count: 4,
      incomeCount: 2,
      incomeFen: 601,
      expenseCount: 2,
      expenseFen: 204,
    });
    assert.equal(read.totals.fundFlowError, null);
    assert.match(read.fundFlowSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(read.fundFlowSha256, read.billSha256);

    await s.sandbox.setFaults({ errCodes: { '/pay/downloadfundflow': { NOAUTH: 1 } } });
    const refused = await engine.run(day);
    assert.equal(refused.status, 'matched', 'the trade bill still reconciles the day');
    assert.equal(refused.totals.fundFlow, null);
    assert.match(refused.totals.fundFlowError ?? '', /NOAUTH|权限/);
  });

  test('a bill that fails while it is staged leaves no staging table behind', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    const day = dayOf(new Date());
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const bill = await downloadBill(s, day);
    const engine = s.server.payments.reconciliation;
    const compare = (text: string) =>
      engine.compare(tradeBillFrom(Readable.from([Buffer.from(text)])), day);

    const found = await compare(bill);
    assert.deepEqual(found.differences, []);
    assert.equal(found.totals.bill.payments.count, 1);
    const offBySum = bill.replace(/总交易单数[^\n]*\n`1/, (m) => m.replace(/`1$/, '`2'));
    assert.notEqual(offBySum, bill);
    await assert.rejects(compare(offBySum), (err: GatewayError) => err.code === 'MALFORMED_BILL');
    const revoked = bill.replace(',`SUCCESS,', ',`REVOKED,');
    assert.notEqual(revoked, bill);
    await assert.rejects(compare(revoked), /neither a payment nor a refund/);
    assert.equal(liveDayMatchers(), 0);
    assert.equal((await compare(bill)).totals.ledger.payments.fen, order.totalFen);
  });

  test('a day that is not a calendar day is refused before anything is written', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    await s.paidOrder(1);
    const day = dayOf(new Date());
    s.sandbox.advanceClock(BILL_PUBLISHED_MS);
    const engine = s.server.payments.reconciliation;
    await engine.run(day);
    await assert.rejects(engine.run('2026-02-30'), /not a day/);
    const runs = await s.server.store.db.selectFrom('reconciliation_runs').select('day').execute();
    assert.deepEqual(runs, [{ day }]);
  });
});

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
