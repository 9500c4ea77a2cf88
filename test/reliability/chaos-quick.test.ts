/**
 * Chaos, quick version (support/chaos.ts): two buyers pay through the sandbox while the live
 * server is SIGKILLed twice and 30 % of notify deliveries are dropped; then every payment
 * WeChat took must be PAID in the store, once. The long run is `npm run reliability`
 * (RELIABILITY.md).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from './support/chaos.js';

test('chaos (quick): two SIGKILLs while payments flow, 30 % of notifies dropped', async (t) => {
  const r = await runChaos({
    flowMs: 3000,
    minKills: 2,
    minPaid: 3,
    killEveryMs: [1000, 2500],
    buyers: 2,
    seed: 8,
    dropNotifyRate: 0.3,
    // A payment whose notifies all failed is found by the pending sweep 60 s after checkout.
    settleMs: 180_000,
  });
  t.diagnostic(JSON.stringify(r));
  assert.ok(r.kills >= 2, 'the server was killed while payments flowed');
  assert.ok(r.paidAtWechat >= 3, 'payments flowed');
  assert.deepEqual(r.missing, [], 'every payment WeChat took is PAID in the store');
  assert.equal(r.paidInStore, r.paidAtWechat);
  assert.equal(r.paidWithoutMoney, 0);
  assert.equal(r.doublePaid, 0);
});
