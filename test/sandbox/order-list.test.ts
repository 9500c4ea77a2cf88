/**
 * The sandbox's get_order_list through the protocol layer's client: WeChat's paging
 * (page_size, last_index, has_more) and filters (order_state, pay_time_range, openid);
 * malformed queries and a last_index the sandbox did not make are refused with WeChat's
 * errcodes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MiniProgramApiError } from '../../src/miniprogram-api/index.js';
import { platformCall, platformClient, stableToken } from './platform-support.js';
import { paidTrade, sandboxFor } from './support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';
const LIST = '/wxa/sec/order/get_order_list';

describe('sandbox platform: get_order_list', () => {
  test('pages by last_index; filters by state, pay time and payer', async (t) => {
    const sandbox = await sandboxFor(t);
    const { client } = platformClient(sandbox);
    const trades: Awaited<ReturnType<typeof paidTrade>>[] = [];
    for (let i = 0; i < 3; i++) {
      trades.push(await paidTrade(sandbox, NOTIFY));
      sandbox.advanceClock(1000);
    }
    await client.uploadShippingInfo({
      order: { transactionId: trades[1]!.transactionId },
      logisticsType: 'virtual',
      deliveryMode: 'unified',
      parcels: [{ itemDesc: '会员月卡*1' }],
      payerOpenid: trades[1]!.openid,
      uploadTime: new Date(),
    });

    const seen: string[] = [];
    let page = await client.getOrderList({ state: 1, pageSize: 1 });
    seen.push(...page.orders.map((o) => o.transactionId));
    assert.equal(page.hasMore, true);
    while (page.hasMore) {
      page = await client.getOrderList({ state: 1, pageSize: 1, lastIndex: page.lastIndex });
      seen.push(...page.orders.map((o) => o.transactionId));
    }
    assert.deepEqual(seen, [trades[0]!.transactionId, trades[2]!.transactionId], 'oldest first');

    const shipped = await client.getOrderList({ state: 2 });
    assert.deepEqual(
      shipped.orders.map((o) => [o.transactionId, o.stateName]),
      [[trades[1]!.transactionId, 'shipped']],
    );
    assert.equal(shipped.hasMore, false);
    assert.equal((await client.getOrderList({})).orders.length, 3);
    const future = new Date(Date.now() + 3600_000 * 24 * 365);
    assert.equal((await client.getOrderList({ paidFrom: future })).orders.length, 0);
    const mine = await client.getOrderList({ openid: trades[2]!.openid });
    assert.ok(mine.orders.every((o) => o.openid === trades[2]!.openid));

    await assert.rejects(
      client.getOrderList({ lastIndex: 'bm90LWFuLWluZGV4' }),
      (err: unknown) => err instanceof MiniProgramApiError && err.errcode === 10060011,
    );
    await assert.rejects(client.getOrderList({ state: 7 }), RangeError);
  });

  test('malformed queries: WeChat’s errcodes, nothing listed', async (t) => {
    const sandbox = await sandboxFor(t);
    const token = await stableToken(sandbox);
    const cases: [unknown, number][] = [
      ['[1,2]', 47001],
      [{ order_state: 9 }, 10060014],
      [{ order_state: '1' }, 10060014],
      [{ page_size: 0 }, 10060014],
      [{ page_size: 101 }, 10060014],
      [{ pay_time_range: { begin_time: 10, end_time: 5 } }, 10060014],
      [{ pay_time_range: { begin_time: -1 } }, 10060014],
      [{ pay_time_range: 'today' }, 10060014],
      [{ openid: 42 }, 10060014],
      [{ last_index: '' }, 10060011],
      [{ last_index: 'x'.repeat(300) }, 10060011],
    ];
    for (const [body, errcode] of cases) {
      const answer = await platformCall(sandbox, LIST, body, token);
      assert.equal(answer.errcode, errcode, JSON.stringify(body));
      assert.equal(answer.order_list, undefined);
    }
  });
});
