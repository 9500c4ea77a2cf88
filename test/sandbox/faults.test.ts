import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultFaults, mergeFaults } from '../../src/sandbox/faults.js';
import { SeededRandom } from '../../src/sandbox/random.js';
import { api, prepay, sandboxFor, v2 } from './support.js';

const NOTIFY = 'http://127.0.0.1:9/wechatpay/v2/notify';

describe('fault settings', () => {
  test('changes merge (per-endpoint maps key by key) and are echoed', async (t) => {
    const sandbox = await sandboxFor(t, {
      seed: 1,
      faults: { systemErrorRate: { '/pay/orderquery': 0.1 } },
    });
    const r = await api(sandbox, 'POST', '/sandbox/v1/faults', {
      dropNotifyRate: 0.3,
      systemErrorRate: { '/pay/unifiedorder': 0.2 },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.dropNotifyRate, 0.3);
    assert.deepEqual(r.body.systemErrorRate, { '/pay/orderquery': 0.1, '/pay/unifiedorder': 0.2 });
    assert.equal(r.body.seed, 1);
    assert.deepEqual((await api(sandbox, 'GET', '/sandbox/v1/faults')).body, r.body);
    assert.deepEqual(sandbox.faults(), r.body);
  });

  test('bad settings are refused with a message naming them, and nothing changes', async (t) => {
    const sandbox = await sandboxFor(t);
    const before = sandbox.faults();
    const cases: [unknown, RegExp][] = [
      [{ dropNotifyRate: 1.5 }, /dropNotifyRate must be a number from 0 to 1/],
      [{ dropNotifyRate: '0.5' }, /dropNotifyRate/],
      [{ duplicateNotifyRate: -0.1 }, /duplicateNotifyRate/],
      [{ delayNotifyMs: 1.5 }, /delayNotifyMs must be a whole number/],
      [{ delayNotifyMs: 90_000_000 }, /delayNotifyMs/],
      [{ reorderNotifies: 'yes' }, /reorderNotifies must be true or false/],
      [{ systemErrorRate: { '/pay/nope': 0.5 } }, /unknown path "\/pay\/nope"/],
      [{ systemErrorRate: [0.5] }, /systemErrorRate must be an object/],
      [{ timeoutRate: { '/pay/orderquery': 2 } }, /timeoutRate\["\/pay\/orderquery"\]/],
      [{ refundOutcome: 'MAYBE' }, /refundOutcome must be one of SUCCESS, CHANGE, REFUNDCLOSE/],
      [{ seed: 2 ** 33 }, /seed must be a whole number/],
      [{ dropRate: 0.5 }, /unknown fault setting "dropRate"/],
      [{ dropNotifyRate: 0.5, bogus: 1 }, /unknown fault setting "bogus"/],
      [{ errCodes: { '/sns/jscode2session': { SYSTEMERROR: 1 } } }, /errCodes: unknown path/],
      [{ errCodes: { '/secapi/pay/refund': { notenough: 1 } } }, /is not an err_code/],
      [{ errCodes: { '/secapi/pay/refund': { NOTENOUGH: -1 } } }, /NOTENOUGH"\] must be a whole/],
      [{ errCodes: { '/secapi/pay/refund': 2 } }, /must be an object of err_code → count/],
      [{ errCodes: 'NOTENOUGH' }, /errCodes must be an object/],
      [{ answerSignatures: { '/pay/orderquery': { BAD_SIGNATURE: 1 } } }, /unknown path/],
      [{ answerSignatures: { '/v3/certificates': { FORGED: 1 } } }, /not one of BAD_SIGNATURE/],
      [{ answerSignatures: { '/v3/certificates': { SIGN_PROBE: 1.5 } } }, /must be a whole/],
      [{ answerSignatures: { '/v3/certificates': 1 } }, /must be an object of fault → count/],
      [{ answerSignatures: [] }, /answerSignatures must be an object/],
      [{ closeLeavesNotpay: 1.5 }, /closeLeavesNotpay must be a whole number/],
      [{ omitMerchantIdsRate: { '/pay/closeorder': 2 } }, /omitMerchantIdsRate/],
      [{ primaryDomainFailure: 'down' }, /primaryDomainFailure must be one of none, reset/],
      [{ billRows: [] }, /billRows must be an object/],
      [{ billRows: { omit: 'T1' } }, /billRows.omit must be up to 100/],
      [{ billRows: { omit: ['a b'] } }, /billRows.omit/],
      [{ billRows: { omit: Array(101).fill('T1') } }, /billRows.omit/],
      [{ billRows: { amountFen: { T1: 0 } } }, /amountFen\["T1"\] must be a whole number/],
      [{ billRows: { amountFen: { T1: '5' } } }, /amountFen\["T1"\]/],
      [{ billRows: { amountFen: { ['x'.repeat(65)]: 5 } } }, /is not an order or refund number/],
      [{ billRows: { extra: -1 } }, /billRows.extra must be a whole number/],
      [{ billRows: { foreign: 1001 } }, /billRows.foreign/],
      [{ billRows: { lie: 1 } }, /billRows: unknown setting "lie"/],
    ];
    for (const [body, message] of cases) {
      const r = await api(sandbox, 'POST', '/sandbox/v1/faults', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match((r.body.error as { message: string }).message, message);
    }
    await assert.rejects(sandbox.setFaults({ dropNotifyRate: 2 }), /dropNotifyRate/);
    assert.deepEqual(sandbox.faults(), before);
  });

  test('billRows replaces the setting whole; an empty object clears it', async (t) => {
    const sandbox = await sandboxFor(t);
    const set = await api(sandbox, 'POST', '/sandbox/v1/faults', {
      billRows: { omit: ['T1'], extra: 2 },
    });
    assert.equal(set.status, 200);
    assert.deepEqual(sandbox.faults().billRows, {
      omit: ['T1'],
      amountFen: {},
      extra: 2,
      foreign: 0,
    });
    await api(sandbox, 'POST', '/sandbox/v1/faults', { billRows: {} });
    assert.deepEqual(sandbox.faults().billRows, { omit: [], amountFen: {}, extra: 0, foreign: 0 });
  });

  test('mergeFaults never mutates its input', () => {
    const base = mergeFaults(defaultFaults(3), { errCodes: { '/pay/orderquery': { A: 1 } } });
    const copy = structuredClone(base);
    mergeFaults(base, {
      systemErrorRate: { '/pay/orderquery': 1 },
      dropNotifyRate: 1,
      errCodes: { '/pay/orderquery': { B: 2 } },
      omitMerchantIdsRate: { '/pay/orderquery': 1 },
    });
    assert.deepEqual(base, copy);
  });

  test('errCodes merge code by code; a count of 0 removes one; codes are used in the order set', async (t) => {
    const sandbox = await sandboxFor(t);
    await sandbox.setFaults({
      errCodes: { '/pay/orderquery': { SYSTEMERROR: 1, ORDERNOTEXIST: 5 } },
    });
    const r = await api(sandbox, 'POST', '/sandbox/v1/faults', {
      errCodes: { '/pay/orderquery': { ORDERNOTEXIST: 0, BANKERROR: 1 } },
    });
    assert.deepEqual(r.body.errCodes, { '/pay/orderquery': { SYSTEMERROR: 1, BANKERROR: 1 } });
    const codes = [];
    for (let i = 0; i < 3; i++) {
      codes.push((await v2(sandbox, '/pay/orderquery', { out_trade_no: 'NOSUCH0001' })).fields);
    }
    assert.deepEqual(
      codes.map((f) => f.err_code),
      ['SYSTEMERROR', 'BANKERROR', 'ORDERNOTEXIST'],
    );
    assert.match(codes[1]!.err_code_des ?? '', /sandbox fault: errCodes/);
    assert.deepEqual(sandbox.faults().errCodes, { '/pay/orderquery': {} });
  });

  test('seeded streams: same seed, same choices; streams do not disturb each other', () => {
    const draw = (r: SeededRandom, s: string) => Array.from({ length: 20 }, () => r.chance(s, 0.5));
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const aFirst = draw(a, 'error:/pay/orderquery');
    draw(b, 'notify:drop'); // b draws from another stream first
    assert.deepEqual(draw(b, 'error:/pay/orderquery'), aFirst);
    assert.notDeepEqual(draw(new SeededRandom(43), 'error:/pay/orderquery'), aFirst);
    const rate = Array.from({ length: 10_000 }, () => a.chance('x', 0.3)).filter(Boolean).length;
    assert.ok(rate > 2800 && rate < 3200, `about 30% (${rate})`);
  });
});

describe('endpoint faults', () => {
  test('SYSTEMERROR at rate 1: a signed SYSTEMERROR and nothing done', async (t) => {
    const sandbox = await sandboxFor(t, {
      faults: { systemErrorRate: { '/pay/unifiedorder': 1 } },
    });
    const r = await v2(sandbox, '/pay/unifiedorder', {
      body: 'x',
      out_trade_no: 'SYSERR0001',
      total_fee: 1,
      spbill_create_ip: '127.0.0.1',
      notify_url: NOTIFY,
      trade_type: 'JSAPI',
      openid: 'oU',
    });
    assert.equal(r.signed, true);
    assert.equal(r.fields.result_code, 'FAIL');
    assert.equal(r.fields.err_code, 'SYSTEMERROR');
    assert.equal(sandbox.trade('SYSERR0001'), undefined);
  });

  test('SYSTEMERROR at rate 0.5 with a seed: the same calls fail on every run', async (t) => {
    const pattern = async () => {
      const sandbox = await sandboxFor(t, {
        seed: 1234,
        faults: { systemErrorRate: { '/pay/orderquery': 0.5 } },
      });
      const out: string[] = [];
      for (let i = 0; i < 30; i++) {
        out.push(
          (await v2(sandbox, '/pay/orderquery', { out_trade_no: 'NOSUCH0001' })).fields.err_code!,
        );
      }
      await sandbox.close();
      return out;
    };
    const first = await pattern();
    assert.deepEqual(await pattern(), first);
    assert.ok(first.includes('SYSTEMERROR') && first.includes('ORDERNOTEXIST'), first.join(','));
  });

  test('timeout: the request is processed, the answer never arrives, the retry sees the result', async (t) => {
    const sandbox = await sandboxFor(t, {
      closeMinAgeMs: 0,
      faults: { timeoutRate: { '/pay/closeorder': 1 }, timeoutHoldMs: 50 },
    });
    const p = await prepay(sandbox, NOTIFY);
    await assert.rejects(
      v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo }),
      /fetch failed/,
    );
    assert.equal(sandbox.trade(p.outTradeNo)!.tradeState, 'CLOSED', 'the close happened');
    await sandbox.setFaults({ timeoutRate: { '/pay/closeorder': 0 } });
    assert.equal(
      (await v2(sandbox, '/pay/closeorder', { out_trade_no: p.outTradeNo })).fields.err_code,
      'ORDERCLOSED',
    );
  });

  test('jscode2session faults: errcode -1, and a timeout that still uses up the code', async (t) => {
    const sandbox = await sandboxFor(t, {
      faults: { systemErrorRate: { '/sns/jscode2session': 1 } },
    });
    const { code } = sandbox.loginCode();
    const q = new URLSearchParams({
      appid: sandbox.credentials.appId,
      secret: sandbox.credentials.appSecret,
      js_code: code,
      grant_type: 'authorization_code',
    });
    const err = (await (await fetch(`${sandbox.url}/sns/jscode2session?${q}`)).json()) as {
      errcode: number;
    };
    assert.equal(err.errcode, -1);
    await sandbox.setFaults({
      systemErrorRate: { '/sns/jscode2session': 0 },
      timeoutRate: { '/sns/jscode2session': 1 },
      timeoutHoldMs: 20,
    });
    await assert.rejects(fetch(`${sandbox.url}/sns/jscode2session?${q}`), /fetch failed/);
    await sandbox.setFaults({ timeoutRate: { '/sns/jscode2session': 0 } });
    const again = (await (await fetch(`${sandbox.url}/sns/jscode2session?${q}`)).json()) as {
      errcode: number;
    };
    assert.equal(again.errcode, 40163, 'the lost answer had consumed the code');
  });

  test('close() does not wait for held (timed-out) requests', async (t) => {
    const sandbox = await sandboxFor(t, {
      faults: { timeoutRate: { '/pay/orderquery': 1 }, timeoutHoldMs: 600_000 },
    });
    const pending = v2(sandbox, '/pay/orderquery', { out_trade_no: 'NOSUCH0001' }).catch(
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 50));
    await sandbox.close();
    assert.ok((await pending) instanceof Error);
  });
});
