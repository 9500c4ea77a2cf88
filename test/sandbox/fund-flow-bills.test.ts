/**
 * The sandbox's fund-flow bills: the basic account's movements from its own payments, fees and
 * refunds (fund-flow-records.ts); APIv2 `/pay/downloadfundflow` (HMAC-SHA256 only, the client
 * certificate over TLS) read by the protocol layer's client; APIv3 `/v3/bill/fundflowbill` and
 * its download with the SHA1 check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { Agent, request } from 'undici';
import { fundFlowRecords } from '../../src/sandbox/fund-flow-records.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import {
  beijingDate,
  decodeXml,
  type FundFlowRow,
  parseFundFlowBill,
  WechatPayV2Client,
} from '../../src/wechatpay/index.js';
import { fundFlowBill } from '../../src/wechatpay/v3/index.js';
import { hasOpenssl, makeCertificates } from '../support/certificates.js';
import { engineFor } from './engine-support.js';
import { payParams, sandboxFor, signedV2Body, until } from './support.js';
import { v3MerchantFor } from './v3-support.js';

const DAY = 24 * 3600 * 1000;
/** 2026-03-10 00:00 Beijing. */
const MARCH_10 = Date.UTC(2026, 2, 9, 16);

function summaryOf(rows: FundFlowRow[]) {
  return rows.map((r) => [r.businessType, r.direction, r.amountFen, r.balanceFen, r.voucherNo]);
}

describe('sandbox fund-flow bills', () => {
  test('the basic account: payments in, fees and refunds out, fees given back, a running balance', (t) => {
    const s = engineFor(t, MARCH_10 + 1000);
    s.pay('FF1ORDER01', 600);
    s.at(MARCH_10 + 2000);
    s.pay('FF1ORDER02', 100);
    s.at(MARCH_10 + DAY + 5000);
    s.refund('FF1ORDER01', 'FFR01', 200);
    s.at(MARCH_10 + DAY + 6000);
    s.pay('FF2ORDER01', 300);
    assert.deepEqual(fundFlowRecords(s.core, '20260311', 'BASIC'), {
      ok: false,
      reason: 'not_ready',
    });
    s.at(MARCH_10 + 2 * DAY + 10 * 3600_000);

    const day1 = fundFlowRecords(s.core, '20260310', 'BASIC');
    assert.ok(day1.ok);
    assert.deepEqual(summaryOf(day1.rows), [
      ['交易', 'income', 600, 600, 'FF1ORDER01'],
      ['扣除交易手续费', 'expense', 4, 596, 'FF1ORDER01'],
      ['交易', 'income', 100, 696, 'FF1ORDER02'],
      ['扣除交易手续费', 'expense', 1, 695, 'FF1ORDER02'],
    ]);
    const paid = s.core.state.trades.get(s.core.credentials.mchId, 'FF1ORDER01')!;
    assert.equal(day1.rows[0]!.businessNo, paid.transaction_id);
    assert.equal(day1.rows[0]!.bookedAt.getTime(), MARCH_10 + 1000);

    const day2 = fundFlowRecords(s.core, '20260311', 'BASIC');
    assert.ok(day2.ok);
    assert.deepEqual(summaryOf(day2.rows), [
      ['退款', 'expense', 200, 495, 'FFR01'],
      ['退还交易手续费', 'income', 1, 496, 'FFR01'],
      ['交易', 'income', 300, 796, 'FF2ORDER01'],
      ['扣除交易手续费', 'expense', 2, 794, 'FF2ORDER01'],
    ]);
    assert.deepEqual(
      day2.rows.map((r) => r.businessName),
      ['退款', '退款', '交易', '交易'],
    );
    for (const account of ['OPERATION', 'FEES'] as const) {
      assert.deepEqual(fundFlowRecords(s.core, '20260310', account), { ok: true, rows: [] });
    }
    assert.deepEqual(fundFlowRecords(s.core, '20260230', 'BASIC'), {
      ok: false,
      reason: 'invalid_date',
    });
  });

  test('APIv2 downloadfundflow: HMAC-SHA256 only, gzip or not, summary adding up; none, not yet', async (t) => {
    const sandbox = await sandboxFor(t, { timeScale: 1000 });
    const c = sandbox.credentials;
    const client = new WechatPayV2Client({
      baseUrl: sandbox.url,
      appId: c.appId,
      mchId: c.mchId,
      key: c.mchKey,
      retry: { attempts: 0 },
    });
    const order = await client.unifiedOrder({
      body: 'fund flow',
      outTradeNo: 'FFV2ORDER01',
      totalFee: 1000,
      spbillCreateIp: '127.0.0.1',
      notifyUrl: 'http://127.0.0.1:9/n',
      openid: 'oFundFlow',
    });
    sandbox.pay({ ...payParams(sandbox, order.prepayId!), openid: 'oFundFlow', notify: false });
    await client.refund({
      outTradeNo: 'FFV2ORDER01',
      outRefundNo: 'FFV2R1',
      totalFee: 1000,
      refundFee: 400,
    });
    await until(() => sandbox.refund('FFV2R1')?.status === 'SUCCESS');
    const billDate = beijingDate(new Date(sandbox.trade('FFV2ORDER01')!.paidAt!));
    await assert.rejects(
      client.downloadFundFlowStream({ billDate }),
      (e: { code?: string }) => e.code === 'BILL_NOT_READY',
    );
    sandbox.advanceClock(2 * DAY);
    for (const gzip of [false, true]) {
      const reader = await client.downloadFundFlowStream({ billDate, gzip });
      assert.ok(reader);
      const rows: FundFlowRow[] = [];
      for await (const batch of reader.batches()) rows.push(...batch);
      assert.deepEqual(
        rows.map((r) => [r.businessType, r.amountFen]),
        [
          ['交易', 1000],
          ['扣除交易手续费', 6],
          ['退款', 400],
          ['退还交易手续费', 2],
        ],
      );
      assert.deepEqual(reader.summary, {
        count: 4,
        incomeCount: 2,
        incomeFen: 1002,
        expenseCount: 2,
        expenseFen: 406,
      });
    }
    assert.equal(
      await client.downloadFundFlowStream({ billDate, accountType: 'Operation' }),
      null,
      'the operation account never moves: No Bill Exist',
    );

    const post = async (fields: Record<string, string>, signType: 'MD5' | 'HMAC-SHA256') => {
      const res = await request(`${sandbox.url}/pay/downloadfundflow`, {
        method: 'POST',
        body: signedV2Body(sandbox, fields, { signType }),
      });
      return decodeXml(await res.body.text());
    };
    const md5 = await post({ bill_date: billDate, account_type: 'Basic' }, 'MD5');
    assert.equal(md5.return_code, 'FAIL');
    assert.match(md5.return_msg ?? '', /HMAC-SHA256/);
    for (const [fields, said] of [
      [{ bill_date: billDate }, /account_type/],
      [{ bill_date: billDate, account_type: 'BASIC' }, /account_type/],
      [{ bill_date: billDate, account_type: 'Basic', tar_type: 'ZIP' }, /tar_type/],
      [{ bill_date: '2026-03-10', account_type: 'Basic' }, /bill_date/],
    ] as const) {
      const answer = await post(fields, 'HMAC-SHA256');
      assert.equal(answer.return_code, 'FAIL', JSON.stringify(fields));
      assert.match(answer.return_msg ?? '', said);
    }
  });

  test('APIv2 downloadfundflow over TLS needs the client certificate signed by the CA', {
    skip: !hasOpenssl && 'openssl is not installed',
  }, async (t) => {
    const certs = certificates(t);
    const sandbox = await sandboxFor(t, { tls: { ...certs.server, clientCa: certs.ca } });
    const fields = { bill_date: beijingDate(new Date()), account_type: 'Basic' };
    const agents = {
      none: new Agent({ connect: { ca: certs.server.cert } }),
      intruder: new Agent({ connect: { ca: certs.server.cert, ...certs.other } }),
      merchant: new Agent({ connect: { ca: certs.server.cert, ...certs.client } }),
    };
    t.after(() => Promise.all(Object.values(agents).map((a) => a.close())));
    const answer = async (agent: Agent) => {
      const res = await request(`${sandbox.url}/pay/downloadfundflow`, {
        method: 'POST',
        body: signedV2Body(sandbox, fields, { signType: 'HMAC-SHA256' }),
        dispatcher: agent,
      });
      return decodeXml(await res.body.text());
    };
    for (const who of ['none', 'intruder'] as const) {
      assert.match((await answer(agents[who])).return_msg ?? '', /^证书错误/, who);
    }
    // With the certificate the request reaches the bill: today's is not out yet.
    assert.equal((await answer(agents.merchant)).return_msg, 'Bill Creating');
  });

  test('APIv3 fundflowbill: a signed hash and URL, the file checked by its SHA1; none, bad account', async (t) => {
    const m = await v3MerchantFor(t);
    const sandbox: Sandbox = m.sandbox;
    const c = sandbox.credentials;
    const v2 = new WechatPayV2Client({
      baseUrl: sandbox.url,
      appId: c.appId,
      mchId: c.mchId,
      key: c.mchKey,
    });
    const order = await v2.unifiedOrder({
      body: 'fund flow v3',
      outTradeNo: 'FFV3ORDER01',
      totalFee: 500,
      spbillCreateIp: '127.0.0.1',
      notifyUrl: 'http://127.0.0.1:9/n',
      openid: 'oFundFlowV3',
    });
    sandbox.pay({ ...payParams(sandbox, order.prepayId!), openid: 'oFundFlowV3', notify: false });
    const paidDay = beijingDate(new Date(sandbox.trade('FFV3ORDER01')!.paidAt!));
    const billDate = `${paidDay.slice(0, 4)}-${paidDay.slice(4, 6)}-${paidDay.slice(6)}`;
    await assert.rejects(
      fundFlowBill(m.client, { billDate }),
      (e: { code?: string }) => e.code === 'BILL_NOT_READY',
    );
    sandbox.advanceClock(2 * DAY);
    for (const gzip of [false, true]) {
      const text = await fundFlowBill(m.client, { billDate, gzip });
      const bill = parseFundFlowBill(text!);
      assert.deepEqual(
        bill.rows.map((r) => [r.businessType, r.direction, r.amountFen, r.voucherNo]),
        [
          ['交易', 'income', 500, 'FFV3ORDER01'],
          ['扣除交易手续费', 'expense', 3, 'FFV3ORDER01'],
        ],
      );
      assert.deepEqual(bill.summary, {
        count: 2,
        incomeCount: 1,
        incomeFen: 500,
        expenseCount: 1,
        expenseFen: 3,
      });
    }
    assert.equal(await fundFlowBill(m.client, { billDate, accountType: 'FEES' }), null);
    await assert.rejects(
      fundFlowBill(m.client, { billDate, accountType: 'Basic' as 'BASIC' }),
      (e: { code?: string }) => e.code === 'PARAM_ERROR',
    );
  });
});

function certificates(t: TestContext) {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return makeCertificates(dir);
}
