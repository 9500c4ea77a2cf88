/**
 * Paging in the admin console's lists (web/admin/use-paged-list.ts), in headless Chromium
 * against demo mode. The list endpoints are answered by the test, two pages each, so the pages
 * and the cursors they send are known: orders step page by page (next, previous), anomalies and
 * webhook deliveries append the next page; Retry after a failed page loads that page.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Page, Route } from 'playwright-core';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { type Demo, eventually, startDemo } from '../support/demo.js';

const skip = browserSkipReason();
const CREATED = '2026-03-01T04:05:06.000Z';

async function demoFor(t: TestContext): Promise<Demo> {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-paging-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, { plugins: [webPages()] });
}

/** Answers GET `path` with two pages: `first` (cursor "c2" next), then `second`; records the queries. */
async function twoPages(page: Page, path: string, key: string, first: object, second: object) {
  const queries: URLSearchParams[] = [];
  const state = { failNext: false };
  await page.route(
    (url) => url.pathname === path,
    (route: Route) => {
      const query = new URL(route.request().url()).searchParams;
      queries.push(query);
      if (state.failNext) {
        state.failNext = false;
        return route.fulfill({
          status: 503,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'UNAVAILABLE', message: 'try again' } }),
        });
      }
      const later = query.get('cursor') === 'c2';
      return route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          [key]: [later ? second : first],
          nextCursor: later ? null : 'c2',
        }),
      });
    },
  );
  return { queries, state };
}

async function signedIn(t: TestContext, hash: string, route: (page: Page) => Promise<void>) {
  const demo = await demoFor(t);
  const browser = await launchBrowser(t);
  const opened = await openPage(browser, `${demo.url}/admin/${hash}`, undefined, route);
  await opened.page.getByTestId('token').fill(demo.launched.adminToken!);
  await opened.page.getByTestId('sign-in').click();
  return opened;
}

function order(id: string) {
  return {
    id,
    outTradeNo: `T${id}`,
    description: `order ${id}`,
    totalFen: 100,
    refundedFen: 0,
    currency: 'CNY',
    status: 'PAID',
    openid: 'o-paging',
    createdAt: CREATED,
  };
}

function anomaly(id: string) {
  return {
    id,
    kind: 'amount_mismatch',
    orderId: null,
    outTradeNo: `T${id}`,
    detail: { seen: id },
    status: 'open',
    createdAt: CREATED,
    resolution: null,
  };
}

function delivery(id: string) {
  return {
    id,
    eventId: `ev_${id}`,
    eventType: 'order.paid',
    url: 'https://merchant.example/hook',
    status: 'delivered',
    attempts: 1,
    lastStatusCode: 204,
    lastError: null,
    nextAttemptAt: null,
    createdAt: CREATED,
  };
}

describe('admin console: paged lists in Chromium', { skip: skip ?? false }, () => {
  test('orders: next shows the second page (retried after a failure), previous the first', async (t) => {
    let orders: Awaited<ReturnType<typeof twoPages>> | undefined;
    const { page, errors } = await signedIn(t, '#/orders?status=PAID', async (p) => {
      orders = await twoPages(p, '/admin/v1/orders', 'orders', order('o1'), order('o2'));
    });
    const sent = orders!;
    await seeText(page.getByTestId('order-row-o1'), 'To1');
    await seeText(page.getByTestId('page-number'), '1');
    assert.ok(await page.getByTestId('previous-page').isDisabled(), 'no page before the first');

    // The next page fails to load; Retry loads the page asked for (the second), not the first.
    sent.state.failNext = true;
    await page.getByTestId('next-page').click();
    await seeText(page.getByRole('alert'), 'UNAVAILABLE');
    await page.getByRole('alert').getByRole('button').click();
    await seeText(page.getByTestId('order-row-o2'), 'To2');
    await seeText(page.getByTestId('page-number'), '2');
    assert.equal(await page.getByTestId('order-row-o1').count(), 0, 'one page at a time');
    assert.ok(await page.getByTestId('next-page').isDisabled(), 'no page after the last');
    const retried = sent.queries.slice(-2).map((q) => [q.get('cursor'), q.get('status')]);
    assert.deepEqual(retried, [
      ['c2', 'PAID'],
      ['c2', 'PAID'],
    ]);

    await page.getByTestId('previous-page').click();
    await seeText(page.getByTestId('order-row-o1'), 'To1');
    await seeText(page.getByTestId('page-number'), '1');
    assert.equal(sent.queries.at(-1)!.get('cursor'), null, 'the first page has no cursor');
    assert.deepEqual(errors, []);
  });

  test('anomalies and webhook deliveries: "next" appends the second page to the first', async (t) => {
    let anomalies: Awaited<ReturnType<typeof twoPages>> | undefined;
    let deliveries: Awaited<ReturnType<typeof twoPages>> | undefined;
    const { page, errors } = await signedIn(t, '#/anomalies', async (p) => {
      anomalies = await twoPages(
        p,
        '/admin/v1/anomalies',
        'anomalies',
        anomaly('a1'),
        anomaly('a2'),
      );
      deliveries = await twoPages(
        p,
        '/admin/v1/webhooks/deliveries',
        'deliveries',
        delivery('d1'),
        delivery('d2'),
      );
    });
    await seeText(page.getByTestId('anomaly-row-a1'), 'Ta1');
    await page.getByTestId('more').click();
    await seeText(page.getByTestId('anomaly-row-a2'), 'Ta2');
    await seeText(page.getByTestId('anomaly-row-a1'), 'Ta1');
    assert.equal(await page.getByTestId('more').count(), 0, 'nothing after the last page');
    assert.deepEqual(
      anomalies!.queries.map((q) => [q.get('status'), q.get('cursor')]),
      [
        ['open', null],
        ['open', 'c2'],
      ],
    );

    await page.getByTestId('tab-webhooks').click();
    await seeText(page.getByTestId('delivery-row-d1'), 'order.paid');
    await page.getByTestId('more').click();
    await seeText(page.getByTestId('delivery-row-d2'), 'order.paid');
    await eventually(
      async () => (await page.locator('[data-testid^="delivery-row-"]').count()) === 2,
    );
    assert.equal(deliveries!.queries.at(-1)!.get('cursor'), 'c2');
    assert.deepEqual(errors, []);
  });
});
