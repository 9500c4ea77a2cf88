/**
 * is_trade_managed shared by every instance (docs/shipping.md), on SQLite and PostgreSQL: two
 * instances on one database, each with its own sandbox. What one asked is what the other's
 * console shows, without asking; the job asks again once the answer is 4 hours old (a failure
 * after 15 minutes), and the new answer is every instance's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TradeManagement } from '../../src/contract/index.js';
import { type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const HOUR = 3600_000;

async function setManaged(demo: Demo, managed: boolean) {
  const res = await fetch(`${demo.sandbox.url}/sandbox/v1/trade-management`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ managed }),
  });
  assert.equal(res.status, 200);
}

async function consoleView(demo: Demo): Promise<TradeManagement> {
  const res = await demo.api('GET', '/admin/v1/shipping/trade-management', {
    token: demo.launched.adminToken!,
  });
  assert.equal(res.status, 200, res.text);
  return res.json as unknown as TradeManagement;
}

describeOnStores('is_trade_managed shared by instances', (stores) => {
  test('one instance asks, every console shows it; the job asks again when stale', async (t) => {
    const url = await stores.freshUrl();
    const a = await startDemo(t, url, { jobs: false });
    await eventually(async () => (await consoleView(a)).managed === true);
    // The second instance's clock runs an hour ahead, so its answers are told apart.
    let ahead = HOUR;
    const b = await startDemo(t, url, { jobs: false, clock: () => new Date(Date.now() + ahead) });
    await eventually(async () => Date.parse((await consoleView(a)).checkedAt!) > Date.now());
    const shippingB = b.launched.server.payments.shipping!;

    // B's WeChat now says "not managed"; B has a fresh answer and does not ask.
    await setManaged(b, false);
    assert.equal((await shippingB.tradeManagement()).managed, true);
    assert.deepEqual(await shippingB.refreshTradeManaged(), { examined: 1, changed: 0, errors: 0 });

    // Four hours on, the job asks: every console shows the new answer.
    ahead += 4 * HOUR + 1000;
    assert.equal((await shippingB.refreshTradeManaged()).changed, 1);
    assert.equal((await consoleView(a)).managed, false);
    assert.equal((await consoleView(b)).managed, false);

    // A failed ask is stored with WeChat's errcode and asked again after 15 minutes.
    await b.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/is_trade_managed': { '48001': 1 } },
    });
    ahead += 4 * HOUR + 1000;
    assert.deepEqual(await shippingB.refreshTradeManaged(), { examined: 1, changed: 1, errors: 1 });
    const failed = await consoleView(a);
    assert.equal(failed.managed, null);
    assert.equal(failed.error?.code, '48001');
    assert.equal((await shippingB.refreshTradeManaged()).changed, 0, 'not at once');
    ahead += 15 * 60_000 + 1000;
    await setManaged(b, true);
    assert.equal((await shippingB.refreshTradeManaged()).changed, 1);
    assert.deepEqual(
      { ...(await consoleView(a)), checkedAt: null },
      { managed: true, checkedAt: null, error: null },
    );
  });
});
