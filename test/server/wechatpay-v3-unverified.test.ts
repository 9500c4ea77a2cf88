/**
 * WeChat's v3 answer failing verification (the sandbox's `answerSignatures` fault: a bad
 * signature, an unknown serial, a timestamp outside the window, a signature probe) on every call
 * the server makes: checkout and re-issued payment parameters answer 502 WECHATPAY_UNVERIFIED
 * and leave the order retryable; the query, the close and the refund keep the order (or refund)
 * where an unanswered call leaves it; each is counted by operation and code.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ANSWER_SIGNATURE_FAULTS } from '../../src/sandbox/faults.js';
import { type SandboxServer, startSandboxServer, until } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

const JSAPI = '/v3/pay/transactions/jsapi';
const QUERY = '/v3/pay/transactions/out-trade-no/{out_trade_no}';
const CLOSE = '/v3/pay/transactions/out-trade-no/{out_trade_no}/close';
const REFUND = '/v3/refund/domestic/refunds';

/** WeChat refuses closeorder on younger trades. */
const CLOSE_AGE_MS = 5 * 60_000;

let keys = 0;
const key = () => `v3-unverified-${process.pid}-${++keys}`;

function unverified(s: SandboxServer, operation: string, code: string): number {
  return s.server.metrics.value('minipay_wechatpay_unverified_total', { operation, code });
}

async function orderRow(s: SandboxServer, id: string) {
  return s.server.store.db
    .selectFrom('orders')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function login(s: SandboxServer): Promise<string> {
  const r = await s.api('POST', '/api/v1/login', {
    body: { code: `code:o${process.pid}${key()}` },
  });
  return r.json.token!;
}

describeOnStores('APIv3 answers that fail verification', (stores) => {
  test('checkout: 502 WECHATPAY_UNVERIFIED, the order stays CREATED, the same key then succeeds', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), { api: 'v3' });
    const token = await login(s);
    for (const fault of ANSWER_SIGNATURE_FAULTS) {
      s.sandbox.setFaults({ answerSignatures: { [JSAPI]: { [fault]: 1 } } });
      const idempotencyKey = key();
      const order = () =>
        s.api('POST', '/api/v1/orders', {
          token,
          body: { items: [{ productId: 'prd_tea', quantity: 1 }] },
          headers: { 'idempotency-key': idempotencyKey },
        });
      const refused = await order();
      assert.equal(refused.status, 502, `${fault}: ${refused.text}`);
      assert.equal(refused.json.error?.code, 'WECHATPAY_UNVERIFIED');
      assert.match(refused.json.error!.message, new RegExp(fault));
      assert.match(refused.json.error!.message, /public key/);
      assert.equal(unverified(s, 'unifiedorder', fault), 1, fault);
      const rows = await s.server.store.db
        .selectFrom('orders')
        .select(['id', 'status', 'prepay_id'])
        .where('status', '!=', 'PENDING')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.status, r.prepay_id]),
        [['CREATED', null]],
        fault,
      );
      // WeChat kept the prepay it made: the retry asks again with the same out_trade_no.
      const again = await order();
      assert.equal(again.status, 201, again.text);
      assert.equal(again.json.order?.id, rows[0]!.id);
      assert.equal(again.json.order?.status, 'PENDING');
      assert.equal(again.json.payment?.signType, 'RSA');
    }
  });

  test('payment parameters re-issued: an unverified prepay answer is a 502, the old prepay kept', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), { api: 'v3' });
    const p = await s.pendingOrder(1);
    const before = await orderRow(s, p.order.id);
    await s.server.store.db
      .updateTable('orders')
      .set({ prepay_expires_at: new Date(0).toISOString() })
      .where('id', '=', p.order.id)
      .execute();
    s.sandbox.setFaults({ answerSignatures: { [JSAPI]: { UNKNOWN_SERIAL: 1 } } });
    const r = await s.api('POST', `/api/v1/orders/${p.order.id}/payment`, { token: p.token });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.json.error?.code, 'WECHATPAY_UNVERIFIED');
    const after = await orderRow(s, p.order.id);
    assert.equal(after.status, 'PENDING');
    assert.equal(after.prepay_id, before.prepay_id);
    const retried = await s.api('POST', `/api/v1/orders/${p.order.id}/payment`, {
      token: p.token,
    });
    assert.equal(retried.status, 200, retried.text);
  });

  test('query, close and refund: nothing trusted, nothing lost, each counted', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl(), { api: 'v3' });
    // The query (admin sync): 502 WECHATPAY_UNVERIFIED, the paid order still PENDING here.
    const silent = await s.silentlyPaidOrder(1);
    s.sandbox.setFaults({ answerSignatures: { [QUERY]: { BAD_SIGNATURE: 1 } } });
    const synced = await s.admin('POST', `/admin/v1/orders/${silent.id}/sync`);
    assert.equal(synced.status, 502, synced.text);
    assert.equal(synced.json.error?.code, 'WECHATPAY_UNVERIFIED');
    assert.equal((await orderRow(s, silent.id)).status, 'PENDING');
    assert.equal(unverified(s, 'orderquery', 'BAD_SIGNATURE'), 1);
    const again = await s.admin('POST', `/admin/v1/orders/${silent.id}/sync`);
    assert.equal(again.status, 200, again.text);
    assert.equal((await orderRow(s, silent.id)).status, 'PAID');

    // The close: the order stays CLOSING (the close job asks again), not CLOSED on trust.
    const open = await s.pendingOrder(1);
    s.clock.advance(CLOSE_AGE_MS);
    s.sandbox.advanceClock(CLOSE_AGE_MS);
    s.sandbox.setFaults({ answerSignatures: { [CLOSE]: { SIGN_PROBE: 1 } } });
    const closing = await s.admin('POST', `/admin/v1/orders/${open.order.id}/close`);
    assert.equal(closing.status, 200, closing.text);
    assert.equal((await orderRow(s, open.order.id)).status, 'CLOSING');
    assert.equal(unverified(s, 'closeorder', 'SIGN_PROBE'), 1);
    const closed = await s.admin('POST', `/admin/v1/orders/${open.order.id}/close`);
    assert.equal(closed.status, 200, closed.text);
    assert.equal((await orderRow(s, open.order.id)).status, 'CLOSED');

    // The refund: PROCESSING, then settled by WeChat's notify.
    const paid = await s.paidOrder(1);
    s.sandbox.setFaults({ answerSignatures: { [REFUND]: { STALE_TIMESTAMP: 1 } } });
    const r = await s.admin('POST', `/admin/v1/orders/${paid.id}/refunds`, {
      body: { amountFen: 100 },
      headers: { 'idempotency-key': key() },
    });
    assert.equal(r.status, 201, r.text);
    const refund = (r.json as unknown as { refund: { id: string; status: string } }).refund;
    // WeChat may have it: never FAILED on an answer not trusted (its notify may be in already).
    assert.ok(['PROCESSING', 'SUCCESS'].includes(refund.status), refund.status);
    assert.equal(unverified(s, 'refund', 'STALE_TIMESTAMP'), 1);
    await until(async () => {
      const row = await s.server.store.db
        .selectFrom('refunds')
        .select('status')
        .where('id', '=', refund.id)
        .executeTakeFirstOrThrow();
      return row.status === 'SUCCESS';
    });
  });
});
