/**
 * The v2 client's streamed bills: downloadbill against the sandbox (the same rows as the text
 * download), the answers that are not bills, bodies that break or stall mid-way, and
 * downloadfundflow (HMAC-SHA256 whatever the client signs with, the merchant certificate over
 * mutual TLS).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  beijingDate,
  decodeXml,
  encodeXml,
  type FundFlowRow,
  formatFundFlowBill,
  outRefundNo,
  parseBill,
  verifyV2,
  WechatPayV2Client,
} from '../../src/wechatpay/index.js';
import { hasOpenssl, makeCertificates } from '../support/certificates.js';
import { billFails, readAll } from './bill-support.js';
import {
  clientFor,
  FAKE,
  FakeWechat,
  fakeClient,
  order,
  pay,
  rejectsWith,
  sandboxFor,
} from './support.js';

const BILL = `交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注
\`2026-12-03 10:00:00,\`${FAKE.appId},\`${FAKE.mchId},\`0,\`,\`4200000000202612030000000001,\`T20261203000001,\`o1,\`JSAPI,\`SUCCESS,\`OTHERS,\`CNY,\`6.00,\`0.00,\`a,\`,\`0.04000,\`0.60%,\`6.00,\`
总交易单数,应结订单总金额,手续费总金额,订单总金额
\`1,\`6.00,\`0.04000,\`6.00
`;
const FUND_FLOW_ROW: FundFlowRow = {
  bookedAt: new Date('2026-12-03T02:00:00Z'),
  businessNo: '4200000000202612030000000001',
  flowNo: '1900000109202612030000000001',
  businessName: '交易',
  businessType: '交易',
  direction: 'income',
  amountFen: 600,
  balanceFen: 600,
  applicant: 'system',
  note: '',
  voucherNo: 'T20261203000001',
};
const xml = (fields: Record<string, string>) => encodeXml(fields);

describe('downloadBillStream against the sandbox', () => {
  test('streams the rows the text download has, plain and gzip; not ready, none, refused', async (t) => {
    const sandbox = await sandboxFor(t, { timeScale: 1000 });
    const client = clientFor(t, sandbox);
    const a = await order(client, sandbox, { totalFee: 600, body: '商品, A' });
    pay(sandbox, a.prepayId, a.request.openid);
    const b = await order(client, sandbox, { totalFee: 250 });
    pay(sandbox, b.prepayId, b.request.openid);
    const refundNo = outRefundNo();
    const refund = { outTradeNo: a.request.outTradeNo, outRefundNo: refundNo };
    await client.refund({ ...refund, totalFee: 600, refundFee: 100 });
    while ((await client.refundQuery({ outRefundNo: refundNo })).refunds[0]!.status !== 'SUCCESS') {
      await new Promise((r) => setTimeout(r, 20));
    }
    const today = beijingDate(new Date());
    await rejectsWith(client.downloadBillStream({ billDate: today }), 'later', 'BILL_NOT_READY');
    sandbox.advanceClock(34 * 3600_000);
    const text = (await client.downloadBill({ billDate: today }))!;
    for (const gzip of [false, true]) {
      const reader = (await client.downloadBillStream({ billDate: today, gzip }))!;
      assert.deepEqual(await readAll(reader), parseBill(text).rows);
      assert.equal(reader.type, 'ALL');
      assert.deepEqual(reader.summary, parseBill(text).summary);
      assert.equal(reader.summary!.tradeCount, 3);
    }
    const refunds = (await client.downloadBillStream({ billDate: today, billType: 'REFUND' }))!;
    assert.equal((await readAll(refunds))[0]!.outRefundNo, refundNo);
    assert.equal(refunds.type, 'REFUND');
    const yesterday = beijingDate(new Date(Date.now() - 86_400_000));
    assert.equal(await client.downloadBillStream({ billDate: yesterday, gzip: true }), null);
    await rejectsWith(
      client.downloadBillStream({ billDate: '20991301' }),
      'rejected',
      'RETURN_FAIL',
    );
    await rejectsWith(
      client.downloadBillStream({ billDate: '2026-12-03' }),
      'rejected',
      'INVALID_ARGUMENT',
    );
    await sandbox.setFaults({ systemErrorRate: { '/pay/downloadbill': 1 } });
    await rejectsWith(client.downloadBillStream({ billDate: today }), 'ambiguous', 'SYSTEMERROR');
  });
});

describe('downloadBillStream: answers that are not a bill, bodies that fail', () => {
  test('gzip or not, XML answers say no bill (null), not ready (later) or why not', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake);
    fake.answer = () => ({
      body: gzipSync(xml({ return_code: 'FAIL', return_msg: 'No Bill Exist' })),
    });
    assert.equal(await client.downloadBillStream({ billDate: '20261203', gzip: true }), null);
    fake.answer = () => ({
      body: ` \n${xml({ return_code: 'FAIL', return_msg: 'Bill Creating' })}`,
    });
    await rejectsWith(
      client.downloadBillStream({ billDate: '20261203' }),
      'later',
      'BILL_NOT_READY',
    );
    fake.answer = () => ({ body: xml({ return_code: 'FAIL', return_msg: 'invalid bill_type' }) });
    await rejectsWith(
      client.downloadBillStream({ billDate: '20261203' }),
      'rejected',
      'RETURN_FAIL',
    );
    fake.answer = () => ({
      body: `<xml><return_code>SUCCESS</return_code>${'<a>1</a>'.repeat(10_000)}</xml>`,
    });
    await rejectsWith(
      client.downloadBillStream({ billDate: '20261203' }),
      'invalid',
      'RESPONSE_TOO_LARGE',
    );
    fake.answer = () => ({ status: 502, body: 'bad gateway' });
    const before = fake.requests.length;
    await rejectsWith(client.downloadBillStream({ billDate: '20261203' }), 'ambiguous', 'HTTP_502');
    assert.equal(fake.requests.length - before, 3, 'retried twice');
    const gz = gzipSync(BILL);
    fake.answer = () => ({ body: gz });
    const small = { maxBytes: gz.length - 1 };
    await rejectsWith(
      client.downloadBillStream({ billDate: '20261203' }, small),
      'invalid',
      'RESPONSE_TOO_LARGE',
    );
    const inflated = { maxBytes: gz.length + 1 };
    assert.ok(Buffer.byteLength(BILL) > inflated.maxBytes);
    const bill = await client.downloadBillStream({ billDate: '20261203' }, inflated);
    await assert.rejects(readAll(bill!), billFails('TOO_LARGE', undefined, /larger than/));
  });

  test('a body cut off or stalled mid-way fails the iteration as a transport error', async (t) => {
    const fake = await FakeWechat.start(t);
    // Long enough for the headers on a loaded machine; the stalled body then waits as long.
    const client = fakeClient(t, fake, { timeoutMs: 1500 });
    const half = BILL.slice(0, 300);
    fake.answer = () => ({
      body: '',
      write: (res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(half, () => setTimeout(() => res.socket?.destroy(), 20));
      },
    });
    const cut = await client.downloadBillStream({ billDate: '20261203' });
    await rejectsWith(readAll(cut!), 'ambiguous', 'NETWORK');
    fake.answer = () => ({
      body: '',
      write: (res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write(half);
      },
    });
    const stalled = await client.downloadBillStream({ billDate: '20261203' });
    await rejectsWith(readAll(stalled!), 'ambiguous', 'TIMEOUT');
  });
});

describe('downloadFundFlowStream', () => {
  test('signs with HMAC-SHA256 whatever the client uses; Basic by default; rows from gzip', async (t) => {
    const fake = await FakeWechat.start(t);
    const client = fakeClient(t, fake, { signType: 'MD5' });
    fake.answer = () => ({ body: gzipSync(formatFundFlowBill([FUND_FLOW_ROW])) });
    const reader = await client.downloadFundFlowStream({ billDate: '20261203', gzip: true });
    assert.deepEqual(await readAll(reader!), [FUND_FLOW_ROW]);
    assert.deepEqual(reader!.summary, {
      count: 1,
      incomeCount: 1,
      incomeFen: 600,
      expenseCount: 0,
      expenseFen: 0,
    });
    const sent = fake.requests.at(-1)!;
    assert.equal(sent.sign_type, 'HMAC-SHA256');
    assert.ok(verifyV2(sent, FAKE.key, 'HMAC-SHA256'));
    assert.deepEqual(
      [sent.bill_date, sent.account_type, sent.tar_type],
      ['20261203', 'Basic', 'GZIP'],
    );
    await client.downloadFundFlowStream({ billDate: '20261203', accountType: 'Fees' });
    assert.equal(fake.requests.at(-1)!.account_type, 'Fees');
    fake.answer = () => ({
      body: xml({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'NO_BILL_EXIST' }),
    });
    assert.equal(await client.downloadFundFlowStream({ billDate: '20261203' }), null);
    fake.answer = () => ({
      body: xml({ return_code: 'SUCCESS', result_code: 'FAIL', err_code: 'BILL_CREATING' }),
    });
    await rejectsWith(
      client.downloadFundFlowStream({ billDate: '20261203' }),
      'later',
      'BILL_NOT_READY',
    );
  });

  test('over https it needs the merchant certificate, and refuses before sending without one', async (t) => {
    const client = new WechatPayV2Client({ ...FAKE, baseUrl: 'https://127.0.0.1:9' });
    t.after(() => client.close());
    await rejectsWith(client.downloadFundFlowStream({ billDate: '20261203' }), 'config', 'CONFIG');
  });

  test('mutual TLS: the server sees the merchant certificate', {
    skip: !hasOpenssl && 'openssl is not installed',
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-fundflow-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const certs = makeCertificates(dir);
    const server = await mutualTlsServer(t, certs, formatFundFlowBill([FUND_FLOW_ROW]));
    const client = (tls: { cert: Buffer; key: Buffer } | undefined) => {
      const c = new WechatPayV2Client({
        ...FAKE,
        baseUrl: server.url,
        ca: certs.server.cert,
        retry: { attempts: 0 },
        ...(tls ? { tls } : {}),
      });
      t.after(() => c.close());
      return c;
    };
    const merchant = await client(certs.client).downloadFundFlowStream({ billDate: '20261203' });
    assert.deepEqual(await readAll(merchant!), [FUND_FLOW_ROW]);
    assert.deepEqual(server.peers, ['1900000109']);
    await rejectsWith(
      client(certs.other).downloadFundFlowStream({ billDate: '20261203' }),
      'ambiguous',
      'NETWORK',
    );
    assert.deepEqual(server.peers, ['1900000109'], 'the intruder was never answered');
  });
});

/** An https server that requires a client certificate signed by the test CA. */
async function mutualTlsServer(
  t: TestContext,
  certs: ReturnType<typeof makeCertificates>,
  bill: string,
) {
  const peers: string[] = [];
  const server = createServer(
    { ...certs.server, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
    async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      assert.equal(decodeXml(Buffer.concat(chunks)).sign_type, 'HMAC-SHA256');
      const cn = (req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN;
      peers.push(String(cn));
      res.writeHead(200, { 'content-type': 'text/plain' }).end(bill);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise((r) => server.close(r)));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, peers };
}
