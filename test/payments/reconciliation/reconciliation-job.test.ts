/**
 * The daily reconciliation job (`catchUp`): the days whose bill is out, missed ones too, a bill
 * not ready yet retried; and one run of a day at a time. Real server, real sandbox.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { reconciliationJobs } from '../../../src/app/jobs.js';
import { addDays, DomainError, dayOf } from '../../../src/payments/index.js';
import { type SandboxServer, startSandboxServer } from '../../support/sandbox-server.js';
import { describeOnStores } from '../../support/stores.js';

/** Moves our clock and WeChat's to `hour`:30 Beijing on `day` (WeChat's `late` ms behind). */
async function moveTo(s: SandboxServer, day: string, hour: number, late = 0) {
  const target = Date.parse(`${day}T${String(hour).padStart(2, '0')}:30:00+08:00`);
  s.clock.advance(target - s.clock.now().getTime());
  const wechat = (await (await fetch(`${s.sandbox.url}/sandbox/v1/clock`)).json()) as {
    now: string;
  };
  s.sandbox.advanceClock(Math.max(0, target - late - Date.parse(wechat.now)));
}

function runs(s: SandboxServer) {
  return s.server.store.db
    .selectFrom('reconciliation_runs')
    .select(['day', 'status'])
    .orderBy('day')
    .execute();
}

describeOnStores('the reconciliation job', (stores) => {
  test('after days of downtime it catches up every missed day, oldest first', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const order = await s.paidOrder(1);
    const day = dayOf(new Date());
    await moveTo(s, addDays(day, 3), 11);
    const job = reconciliationJobs(s.server.payments)[0]!;
    assert.deepEqual(await job.run(), { examined: 3, changed: 3, errors: 0 });
    assert.deepEqual(await runs(s), [
      { day, status: 'matched' },
      { day: addDays(day, 1), status: 'matched' },
      { day: addDays(day, 2), status: 'matched' },
    ]);
    const first = await s.server.store.db
      .selectFrom('reconciliation_runs')
      .select('totals')
      .where('day', '=', day)
      .executeTakeFirstOrThrow();
    assert.equal(JSON.parse(first.totals!).ledger.payments.fen, order.totalFen);
    assert.deepEqual(await job.run(), { examined: 0, changed: 0, errors: 0 }, 'nothing left');
  });

  test('before 10:00 Beijing the previous day is not due; a bill WeChat is late with is asked again', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    await s.paidOrder(1);
    const day = dayOf(new Date());
    const next = addDays(day, 1);
    await moveTo(s, next, 9);
    const job = reconciliationJobs(s.server.payments)[0]!;
    assert.deepEqual(await job.run(), { examined: 0, changed: 0, errors: 0 });
    assert.deepEqual(await runs(s), []);

    await moveTo(s, next, 10, 3600_000); // our 10:30, WeChat still at 9:30: "Bill Creating"
    assert.deepEqual(await job.run(), { examined: 1, changed: 0, errors: 0 }, 'not a failure');
    assert.deepEqual(await runs(s), [{ day, status: 'waiting' }]);

    s.sandbox.advanceClock(3600_000);
    assert.deepEqual(await job.run(), { examined: 1, changed: 1, errors: 0 });
    assert.deepEqual(await runs(s), [{ day, status: 'matched' }]);
  });

  test('a day that keeps failing is tried 5 times in a row, then left failed for a person', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    await s.paidOrder(1);
    const day = dayOf(new Date());
    await moveTo(s, addDays(day, 1), 11);
    await s.sandbox.setFaults({ systemErrorRate: { '/pay/downloadbill': 1 } });
    const job = reconciliationJobs(s.server.payments)[0]!;
    for (let i = 1; i <= 5; i++) {
      assert.deepEqual(await job.run(), { examined: 1, changed: 0, errors: 1 }, `turn ${i}`);
    }
    assert.deepEqual(await job.run(), { examined: 0, changed: 0, errors: 0 }, 'left alone');
    assert.deepEqual(await runs(s), [{ day, status: 'failed' }]);

    // A person runs it again once WeChat answers; a success starts the count again.
    await s.sandbox.setFaults({ systemErrorRate: { '/pay/downloadbill': 0 } });
    const ran = await s.admin('POST', `/admin/v1/reconciliations/${day}/run`);
    assert.equal(ran.status, 200, ran.text);
    assert.deepEqual(await runs(s), [{ day, status: 'matched' }]);
  });

  test('a day is reconciled by one run at a time', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    await s.paidOrder(1);
    const day = dayOf(new Date());
    s.sandbox.advanceClock(34 * 3600_000);
    const engine = s.server.payments.reconciliation;
    const outcomes = await Promise.allSettled([engine.run(day), engine.run(day)]);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(refused.length, 1);
    const err = (refused[0] as PromiseRejectedResult).reason;
    assert.ok(err instanceof DomainError && err.code === 'RECONCILIATION_RUNNING', String(err));
    assert.deepEqual(await runs(s), [{ day, status: 'matched' }]);
  });
});
