/** What a several-instances run (support/cluster.ts) must show, quick or long. */
import assert from 'node:assert/strict';
import type { ClusterResult } from './cluster.js';

export function assertCluster(r: ClusterResult): void {
  assert.deepEqual(r.missing, [], 'every trade WeChat took is PAID in the store');
  assert.equal(r.paidInStore, r.paidAtWechat);
  assert.equal(r.paidInStore, r.checkouts, 'every checkout was paid');
  assert.equal(r.paidEvents, r.paidInStore, 'one order.paid event per paid order');
  assert.equal(r.doublePaid, 0);
  assert.equal(r.instancesNotified, r.instances, 'the sandbox notified every instance');
  assert.equal(
    r.sharedAcknowledged + r.sharedConnectionErrors,
    r.sharedCopies,
    'every copy that reached an instance was acknowledged',
  );
  assert.ok(r.sharedAcknowledged > 0);
  assert.equal(r.refundsAccepted, r.refundPairs, 'one refund of each pair accepted');
  assert.equal(r.overRefunded, 0, 'no order refunded beyond its total');
  assert.equal(r.webhooksMissing, 0, 'every event reached the webhook receiver');
  assert.equal(r.webhooksMismatched, 0, 'a delivery carries its own event id');
  assert.equal(r.jobs.doubledSlots, 0, 'no job ran twice in one slot');
  assert.equal(r.jobs.overlapping, 0, 'no job overlapped itself');
  assert.ok(r.jobs.instances >= 2, 'the jobs ran on more than one instance');
  for (const job of [
    'minipay-expire-orders',
    'minipay-close-orders',
    'minipay-sweep-pending',
    'minipay-follow-up-refunds',
    'minipay-relay-events',
    'minipay-deliver-webhooks',
  ]) {
    assert.ok((r.jobs.runs[job] ?? 0) > 0, `${job} ran`);
  }
}
