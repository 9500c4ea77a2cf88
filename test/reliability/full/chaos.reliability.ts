/**
 * Chaos, long run: 4 buyers pay for at least 60 s and 10 kills while the server is SIGKILLed
 * 2-5 s after each restart and 30 % of notify deliveries are dropped. Run by
 * `npm run reliability`; figures in RELIABILITY.md.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from '../support/chaos.js';

test('chaos: SIGKILL every few seconds, 30 % of notifies dropped', async (t) => {
  const r = await runChaos({
    flowMs: Number(process.env.MINIPAY_CHAOS_SECONDS ?? 60) * 1000,
    minKills: Number(process.env.MINIPAY_CHAOS_KILLS ?? 10),
    killEveryMs: [2000, 5000],
    buyers: 4,
    seed: Number(process.env.MINIPAY_CHAOS_SEED ?? 8),
    dropNotifyRate: 0.3,
    settleMs: 300_000,
  });
  t.diagnostic(JSON.stringify(r));
  assert.ok(r.paidAtWechat > 0, 'payments flowed');
  assert.deepEqual(r.missing, [], 'every payment WeChat took is PAID in the store');
  assert.equal(r.paidInStore, r.paidAtWechat);
  assert.equal(r.paidWithoutMoney, 0);
  assert.equal(r.doublePaid, 0);
});
