/**
 * The admin console's reconciliation tab (/admin/#/reconciliation) in headless Chromium,
 * against demo mode: a merchant reconciles a day, sees it red with its totals and differences
 * (one repaired, linked to its order), filters by kind, exports the CSV, runs the day again,
 * and sees a clean day green in the list; a day whose bill is not out says so.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { addDays, dayOf } from '../../src/payments/index.js';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { checkout, eventually, startDemo, status } from '../support/demo.js';
import { TestClock } from '../support/payments.js';

const skip = browserSkipReason();

describe('admin console: reconciliation in Chromium', { skip: skip ?? false }, () => {
  test('reconcile a day, its totals and differences, filter, export, run again; green and red days', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-console-reconciliation-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new TestClock();
    const demo = await startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
      plugins: [webPages()],
      jobs: false,
      clock: clock.now,
    });
    const { token, openid } = await demo.login();
    const paid = await checkout(demo, token);
    demo.sandbox.pay({ ...paid.payment, openid });
    const silent = await checkout(demo, token, 'prd_jasmine_tea', 1);
    demo.sandbox.pay({ ...silent.payment, openid, notify: false });
    await eventually(async () => (await status(demo, token, paid.order.id)) === 'PAID');
    const day = dayOf(new Date());
    const before = addDays(day, -1);

    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/admin/#/reconciliation`);
    await page.getByTestId('token').fill(demo.launched.adminToken!);
    await page.getByTestId('sign-in').click();
    await page.getByTestId('reconciliations').waitFor();

    // Today has not ended: the server says so, nothing is run.
    await page.getByTestId('reconcile-date').fill(day);
    await page.getByTestId('reconcile-run').click();
    await seeText(page.getByTestId('reconcile-problem'), 'VALIDATION_FAILED');

    // Tomorrow, before WeChat publishes the bill.
    clock.advance(24 * 3600_000);
    await page.getByTestId('reconcile-run').click();
    await seeText(page.getByTestId('reconcile-problem'), 'BILL_NOT_READY');

    // Bill out, with a row of a trade that never happened here.
    demo.sandbox.advanceClock(34 * 3600_000);
    await demo.sandbox.setFaults({ billRows: { omit: [], amountFen: {}, extra: 1, foreign: 0 } });
    await page.getByTestId('reconcile-run').click();
    await page.waitForURL(`**/admin/#/reconciliation/${day}`);
    await seeText(page.getByTestId('day-status'), '有差异');
    await seeText(page.getByTestId('totals-bill'), '3 · ¥115.00');
    await seeText(page.getByTestId('totals-ledger'), '1 · ¥76.00');
    const extra = page.getByTestId(`difference-EXTRA${day.replaceAll('-', '')}N1`);
    await seeText(extra, 'paid_not_recorded');
    await seeText(extra, '未处理');
    const repaired = page.getByTestId(`difference-${silent.order.outTradeNo}`);
    await seeText(repaired, '已修复');
    assert.equal(await status(demo, token, silent.order.id), 'PAID', 'repaired from the bill');

    // Filter by kind: the repaired payment is of the same kind; another kind shows nothing.
    await page.getByTestId('kind-filter').selectOption('amount_mismatch');
    await seeText(page.getByTestId('differences'), '没有记录');
    await page.getByTestId('kind-filter').selectOption('paid_not_recorded');
    await seeText(extra, 'paid_not_recorded');

    // Export: the CSV of what is shown.
    const download = page.waitForEvent('download');
    await page.getByTestId('export').click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    assert.equal(csv.length, 3, csv.join('\n'));
    assert.ok(csv.some((l) => l.includes(`,repaired,${silent.order.outTradeNo},`)));

    // Run again: nothing changes, still red (the extra row is still in the bill).
    await page.getByTestId('rerun').click();
    await seeText(page.getByTestId('day-status'), '有差异');
    await seeText(repaired, '已修复');

    // The order link opens the order.
    await repaired.getByRole('link', { name: silent.order.outTradeNo }).click();
    await seeText(page.getByTestId('detail-status'), '已支付');

    // A clean day is green; the list shows both.
    await demo.sandbox.setFaults({ billRows: { omit: [], amountFen: {}, extra: 0, foreign: 0 } });
    await page.goto(`${demo.url}/admin/#/reconciliation`);
    await page.getByTestId('reconcile-date').fill(before);
    await page.getByTestId('reconcile-run').click();
    await page.waitForURL(`**/admin/#/reconciliation/${before}`);
    await seeText(page.getByTestId('day-status'), '已对平');
    await page.getByRole('link', { name: '返回对账记录' }).click();
    await seeText(page.getByTestId(`run-${day}`), '有差异');
    await seeText(page.getByTestId(`run-${day}`).getByTestId('run-differences'), '1 (+1 已修复)');
    await seeText(page.getByTestId(`run-${before}`), '已对平');
    assert.deepEqual(errors, []);
  });
});
