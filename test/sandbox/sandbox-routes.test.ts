import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { api, paidTrade, sandboxFor } from './support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';

describe('sandbox API: hostile and malformed input', () => {
  test('malformed JSON, wrong Content-Type, oversized bodies: clear errors, nothing changes', async (t) => {
    const sandbox = await sandboxFor(t);
    const before = sandbox.faults();
    const post = (body: string, type = 'application/json') =>
      fetch(`${sandbox.url}/sandbox/v1/faults`, {
        method: 'POST',
        headers: { 'content-type': type },
        body,
      });
    const malformed = await post('{"dropNotifyRate": 0.5');
    assert.equal(malformed.status, 400);
    assert.equal(
      ((await malformed.json()) as { error: { code: string } }).error.code,
      'VALIDATION_FAILED',
    );
    const xml = await post('<xml><dropNotifyRate>1</dropNotifyRate></xml>', 'text/xml');
    assert.equal(xml.status, 415);
    assert.equal(
      ((await xml.json()) as { error: { code: string } }).error.code,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    const big = await post(JSON.stringify({ dropNotifyRate: 0.5, pad: 'x'.repeat(20_000) }));
    assert.equal(big.status, 413);
    const proto = await post('{"__proto__": {"dropNotifyRate": 1}}');
    assert.equal(proto.status, 400);
    assert.deepEqual(sandbox.faults(), before);
  });

  test('schema refusals name the field and its rule; nothing changes', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY);
    const trade = `/sandbox/v1/trades/${paid.outTradeNo}`;
    const cases: [string, unknown, string][] = [
      [
        '/sandbox/v1/login-code',
        { openid: 'has space' },
        'openid must be 1 to 128 letters, digits, _ or -',
      ],
      ['/sandbox/v1/login-code', { other: 1 }, 'unknown field "other"; expected openid'],
      ['/sandbox/v1/login-code', ['openid'], 'the body must be a JSON object'],
      ['/sandbox/v1/pay', { openid: 'o' }, 'appId is required'],
      [
        '/sandbox/v1/clock',
        { advanceMs: 1.5 },
        'advanceMs must be a whole number from 0 to 34560000000',
      ],
      ['/sandbox/v1/clock', {}, 'advanceMs is required'],
      [
        `${trade}/refunds`,
        { refundFen: 0 },
        'refundFen must be a whole number from 1 to 10000000000',
      ],
      [
        `${trade}/refunds`,
        { refundFen: 1, notifyUrl: 'https://m.example/n?x=1' },
        'notifyUrl must be an http(s) URL without a query string',
      ],
      [
        `${trade}/refunds`,
        { refundFen: 1, outcome: 'MAYBE' },
        'outcome must be one of SUCCESS, CHANGE, REFUNDCLOSE',
      ],
      [`${trade}/expire-prepay`, { now: true }, 'unknown field "now"; expected none'],
      ['/sandbox/v1/faults', [0.5], 'the body must be a JSON object'],
    ];
    for (const [path, body, message] of cases) {
      const r = await api(sandbox, 'POST', path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.deepEqual(r.body, { error: { code: 'VALIDATION_FAILED', message } });
    }
    const twice = await fetch(`${sandbox.url}/sandbox/v1/notifications?outTradeNo=a&outTradeNo=b`);
    assert.equal(twice.status, 400);
    assert.equal(sandbox.trade(paid.outTradeNo)!.refunds.length, 0);
    assert.equal(
      (await api<{ offsetMs: number }>(sandbox, 'GET', '/sandbox/v1/clock')).body.offsetMs,
      0,
    );
  });

  test('a POST without a body is an empty object: expire-prepay and login-code need none', async (t) => {
    const sandbox = await sandboxFor(t);
    const res = await fetch(`${sandbox.url}/sandbox/v1/login-code`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.match(((await res.json()) as { openid: string }).openid, /^o/);
    const nothing = await fetch(`${sandbox.url}/sandbox/v1/trades/NOSUCH/expire-prepay`, {
      method: 'POST',
    });
    assert.equal(nothing.status, 404);
  });

  test('unknown paths answer 404 JSON naming the path', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await api(sandbox, 'GET', '/sandbox/v1/nothing');
    assert.equal(r.status, 404);
    assert.match((r.body.error as { message: string }).message, /GET \/sandbox\/v1\/nothing/);
  });

  test('GET /sandbox/v1/trades/:outTradeNo shows a trade; unknown → 404', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY);
    const r = await api<{ trade: Record<string, unknown> }>(
      sandbox,
      'GET',
      `/sandbox/v1/trades/${paid.outTradeNo}`,
    );
    assert.equal(r.status, 200);
    assert.equal(r.body.trade.tradeState, 'SUCCESS');
    assert.equal(r.body.trade.transactionId, paid.transactionId);
    assert.equal(r.body.trade.totalFen, 100);
    assert.equal(r.body.trade.refundedFen, 0);
    assert.equal(JSON.stringify(r.body).includes(sandbox.credentials.mchKey), false);
    assert.equal((await api(sandbox, 'GET', '/sandbox/v1/trades/NOSUCH')).status, 404);
  });

  test('GET /sandbox/v1/prepays/:prepayId shows what the cashier needs, nothing secret', async (t) => {
    const sandbox = await sandboxFor(t);
    const paid = await paidTrade(sandbox, NOTIFY, { body: '一杯咖啡', total_fee: 1250 });
    const prepayId = sandbox.trade(paid.outTradeNo)!.prepayId;
    const r = await api<{ prepay: Record<string, unknown> }>(
      sandbox,
      'GET',
      `/sandbox/v1/prepays/${prepayId}`,
    );
    assert.deepEqual(Object.keys(r.body.prepay).sort(), [
      'body',
      'expiresAt',
      'outTradeNo',
      'prepayId',
      'totalFen',
      'tradeState',
    ]);
    assert.equal(r.body.prepay.body, '一杯咖啡');
    assert.equal(r.body.prepay.totalFen, 1250);
    assert.equal((await api(sandbox, 'GET', '/sandbox/v1/prepays/wxnope')).status, 404);
  });

  test('POST /sandbox/v1/clock moves time forward only', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await api<{ now: string; offsetMs: number }>(sandbox, 'POST', '/sandbox/v1/clock', {
      advanceMs: 3_600_000,
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.offsetMs, 3_600_000);
    for (const body of [
      { advanceMs: -1 },
      { advanceMs: 1.5 },
      { advanceMs: '10' },
      {},
      { advanceMs: 500 * 24 * 3600 * 1000 },
    ]) {
      assert.equal(
        (await api(sandbox, 'POST', '/sandbox/v1/clock', body)).status,
        400,
        JSON.stringify(body),
      );
    }
    assert.equal(
      (await api<{ offsetMs: number }>(sandbox, 'GET', '/sandbox/v1/clock')).body.offsetMs,
      3_600_000,
    );
  });

  test('the cashier page is self-contained, nonce-locked and frameable', async (t) => {
    const sandbox = await sandboxFor(t);
    const res = await fetch(`${sandbox.url}/sandbox/v1/cashier?package=prepay_id%3Dwx1`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce);
    assert.match(csp, /default-src 'none'/);
    assert.equal(res.headers.get('x-frame-options'), null);
    const html = await res.text();
    assert.equal(html.includes(`<script nonce="${nonce}">`), true);
    assert.equal(
      /<script[^>]+src=|<link[^>]+href=|https?:\/\/(?!.*example)/.test(
        html.replace(/'http:'|'https:'/g, ''),
      ),
      false,
    );
    assert.match(html, /requestPayment:ok/);
    assert.match(html, /requestPayment:fail cancel/);
    const second = await fetch(`${sandbox.url}/sandbox/v1/cashier`);
    assert.notEqual(
      second.headers.get('content-security-policy'),
      csp,
      'a fresh nonce per response',
    );
  });
});
