/**
 * The admin reconciliation API against the real server and the sandbox: runs asked for by a
 * person, the list, a day filtered by kind and paged, the CSV export, and hostile input (which
 * is refused with `{error:{code,message}}` and writes nothing).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type {
  ReconciliationDay,
  ReconciliationList,
  ReconciliationRun,
} from '../../src/contract/index.js';
import { addDays, dayOf } from '../../src/payments/index.js';
import { type SandboxServer, startSandboxServer } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

async function runCount(s: SandboxServer) {
  const rows = await s.server.store.db.selectFrom('reconciliation_runs').select('day').execute();
  return rows.length;
}

describeOnStores('admin API: reconciliations', (stores) => {
  test('run a day, list the runs, read a day by kind and page, export it as CSV', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const missing = await s.paidOrder(1);
    await s.paidOrder(1);
    const day = dayOf(new Date());
    await s.sandbox.setFaults({
      billRows: { omit: [missing.outTradeNo], amountFen: {}, extra: 2, foreign: 1 },
    });

    const early = await s.admin('POST', `/admin/v1/reconciliations/${day}/run`);
    assert.equal(early.status, 400, 'today has not ended');
    s.clock.advance(24 * 3600_000);
    const notReady = await s.admin('POST', `/admin/v1/reconciliations/${day}/run`);
    assert.equal(notReady.status, 409, notReady.text);
    assert.equal(notReady.json.error?.code, 'BILL_NOT_READY');

    s.sandbox.advanceClock(34 * 3600_000);
    const ran = await s.admin('POST', `/admin/v1/reconciliations/${day}/run`);
    assert.equal(ran.status, 200, ran.text);
    const run = (ran.json as unknown as { run: ReconciliationRun }).run;
    assert.equal(run.date, day);
    assert.equal(run.status, 'differences');
    assert.equal(run.differences, 4);
    assert.equal(run.totals?.bill.payments.count, 4);
    assert.equal(run.totals?.ledger.payments.count, 2);
    assert.match(run.billSha256 ?? '', /^[0-9a-f]{64}$/);

    // A second day (no trades there) so that the list has two pages of one.
    await s.sandbox.setFaults({ billRows: { omit: [], amountFen: {}, extra: 0, foreign: 0 } });
    const before = addDays(day, -1);
    assert.equal((await s.admin('POST', `/admin/v1/reconciliations/${before}/run`)).status, 200);
    const first = await s.admin('GET', '/admin/v1/reconciliations?limit=1');
    const page1 = first.json as unknown as ReconciliationList;
    assert.deepEqual(
      page1.runs.map((r) => r.date),
      [day],
    );
    const second = await s.admin(
      'GET',
      `/admin/v1/reconciliations?limit=1&cursor=${page1.nextCursor}`,
    );
    const page2 = second.json as unknown as ReconciliationList;
    assert.deepEqual(
      page2.runs.map((r) => [r.date, r.status, r.totals?.noBill]),
      [[before, 'matched', true]],
    );
    assert.equal(page2.nextCursor, null);

    const whole = (await s.admin('GET', `/admin/v1/reconciliations/${day}`))
      .json as unknown as ReconciliationDay;
    assert.deepEqual(
      whole.items.map((i) => i.kind),
      ['foreign_trade', 'paid_not_recorded', 'paid_not_recorded', 'recorded_not_billed'],
    );
    const missingItem = whole.items.at(-1)!;
    assert.deepEqual(
      [missingItem.orderId, missingItem.outTradeNo, missingItem.status],
      [missing.id, missing.outTradeNo, 'open'],
    );
    const extras = (await s.admin('GET', `/admin/v1/reconciliations/${day}?kind=paid_not_recorded`))
      .json as unknown as ReconciliationDay;
    assert.equal(extras.items.length, 2);
    const onePage = (
      await s.admin('GET', `/admin/v1/reconciliations/${day}?kind=paid_not_recorded&limit=1`)
    ).json as unknown as ReconciliationDay;
    const rest = (
      await s.admin(
        'GET',
        `/admin/v1/reconciliations/${day}?kind=paid_not_recorded&limit=1&cursor=${onePage.nextCursor}`,
      )
    ).json as unknown as ReconciliationDay;
    assert.deepEqual(
      [...onePage.items, ...rest.items].map((i) => i.key),
      extras.items.map((i) => i.key),
    );
    assert.equal(rest.nextCursor, null);

    const csv = await s.admin('GET', `/admin/v1/reconciliations/${day}/differences.csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(
      csv.headers.get('content-disposition') ?? '',
      /reconciliation-\d{4}-\d{2}-\d{2}\.csv/,
    );
    const lines = csv.text.trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'date,kind,status,key,out_trade_no,order_id,bill_amount_fen,ledger_amount_fen,detail,created_at',
    );
    assert.equal(lines.length, 5);
    const missingLine = lines.find((l) => l.includes(missing.outTradeNo))!;
    assert.ok(missingLine.startsWith(`${day},recorded_not_billed,open,${missing.outTradeNo},`));
    assert.ok(missingLine.includes(`,${missing.id},,${missing.totalFen},`));
    const onlyForeign = await s.admin(
      'GET',
      `/admin/v1/reconciliations/${day}/differences.csv?kind=foreign_trade`,
    );
    assert.equal(onlyForeign.text.trimEnd().split('\r\n').length, 2);
  });

  test('hostile input is refused with {error}, and writes nothing', async (t) => {
    const s = await startSandboxServer(t, await stores.freshUrl());
    const day = dayOf(new Date(Date.now() - 86_400_000));
    const cases: [string, string, number, string][] = [
      ['GET', '/admin/v1/reconciliations/2026-02-30', 400, 'VALIDATION_FAILED'],
      ['GET', '/admin/v1/reconciliations/20261203', 400, 'VALIDATION_FAILED'],
      ['GET', '/admin/v1/reconciliations/2026-12-03x', 400, 'VALIDATION_FAILED'],
      ['GET', `/admin/v1/reconciliations/${'9'.repeat(5000)}`, 414, 'URI_TOO_LONG'],
      ['GET', '/admin/v1/reconciliations/%E0%A4%A', 400, 'VALIDATION_FAILED'],
      ['GET', '/admin/v1/reconciliations/..%2F..%2Fetc', 400, 'VALIDATION_FAILED'],
      ['GET', `/admin/v1/reconciliations/${day}`, 404, 'NOT_FOUND'],
      ['GET', '/admin/v1/reconciliations?limit=0', 400, 'VALIDATION_FAILED'],
      ['GET', '/admin/v1/reconciliations?limit=abc', 400, 'VALIDATION_FAILED'],
      ['GET', '/admin/v1/reconciliations?cursor=forged', 400, 'VALIDATION_FAILED'],
      ['GET', `/admin/v1/reconciliations?cursor=${'A'.repeat(400)}`, 400, 'VALIDATION_FAILED'],
      ['GET', '/admin/v1/reconciliations?sort=day', 400, 'VALIDATION_FAILED'],
      ['POST', '/admin/v1/reconciliations/2026-13-01/run', 400, 'VALIDATION_FAILED'],
      ['POST', '/admin/v1/reconciliations/2999-01-01/run', 400, 'VALIDATION_FAILED'],
      ['POST', "/admin/v1/reconciliations/2026-12-03';--/run", 400, 'VALIDATION_FAILED'],
      ['GET', '/admin/v1/reconciliations/2026-02-30/differences.csv', 400, 'VALIDATION_FAILED'],
      ['GET', `/admin/v1/reconciliations/${day}/differences.csv`, 404, 'NOT_FOUND'],
    ];
    for (const [method, path, status, code] of cases) {
      const r = await s.admin(method, path);
      assert.equal(r.status, status, `${method} ${path.slice(0, 80)}: ${r.text}`);
      assert.equal(r.json.error?.code, code, path.slice(0, 80));
      assert.equal(typeof r.json.error?.message, 'string');
    }
    const unauthorized = await s.api('GET', '/admin/v1/reconciliations');
    assert.equal(unauthorized.status, 401);
    const forgedToken = await s.api('POST', `/admin/v1/reconciliations/${day}/run`, {
      token: 'not-the-token',
    });
    assert.equal(forgedToken.status, 403);
    assert.equal(typeof forgedToken.json.error?.code, 'string');
    assert.equal(await runCount(s), 0, 'nothing written');

    // A day that exists, asked for with hostile filters.
    s.sandbox.advanceClock(34 * 3600_000);
    assert.equal((await s.admin('POST', `/admin/v1/reconciliations/${day}/run`)).status, 200);
    const filters: [string, number][] = [
      [`?kind=${encodeURIComponent("amount_mismatch' OR 1=1")}`, 400],
      [`?kind=${'x'.repeat(33)}`, 400],
      ['?kind=', 400],
      ['?limit=101', 400],
      ['?cursor=W10', 400],
      [
        `?cursor=${Buffer.from(JSON.stringify(['reconciliations', day])).toString('base64url')}`,
        400,
      ],
      ['?extra=1', 400],
    ];
    for (const [query, status] of filters) {
      const r = await s.admin('GET', `/admin/v1/reconciliations/${day}${query}`);
      assert.equal(r.status, status, `${query}: ${r.text}`);
      assert.equal(r.json.error?.code, 'VALIDATION_FAILED');
    }
    const badCsv = await s.admin(
      'GET',
      `/admin/v1/reconciliations/${day}/differences.csv?kind=nope`,
    );
    assert.equal(badCsv.status, 400);
    assert.equal(badCsv.json.error?.code, 'VALIDATION_FAILED');
    const body = await s.admin('POST', `/admin/v1/reconciliations/${day}/run`, {
      body: { day: '2020-01-01' },
    });
    assert.equal(body.status, 200, 'a body is ignored: the day is the path');
    assert.equal(await runCount(s), 1);
  });
});
