import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeXml, nonce, signV2 } from '../../src/wechatpay/index.js';
import { postRaw, sandboxFor, signedV2Body, v2 } from './support.js';

const ORDER = {
  body: 'hostile input test',
  out_trade_no: 'HOSTILE0001',
  total_fee: 1,
  spbill_create_ip: '127.0.0.1',
  notify_url: 'http://127.0.0.1:9/notify',
  trade_type: 'JSAPI',
  openid: 'oHostileUser000000000000000',
};

/** A correctly signed unifiedorder body, with `extra` spliced in before </xml>. */
function signedOrder(sandbox: { credentials: { appId: string; mchId: string; mchKey: string } }) {
  return signedV2Body(sandbox, ORDER);
}

describe('v2 endpoints: hostile and malformed input', () => {
  test('a correctly signed request succeeds and its answer is signed (control)', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await postRaw(sandbox, '/pay/unifiedorder', signedOrder(sandbox));
    assert.equal(r.fields.return_code, 'SUCCESS');
    assert.equal(r.fields.result_code, 'SUCCESS');
    assert.equal(r.signed, true);
    assert.ok(sandbox.trade('HOSTILE0001'));
  });

  const hostile: [string, (xml: string) => string | Uint8Array, RegExp][] = [
    [
      'XXE external entity',
      (xml) =>
        `<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${xml.replace('<body>', '<body>&xxe;')}`,
      /^XML格式错误: DOCTYPE/,
    ],
    [
      'internal entity expansion (billion laughs)',
      (xml) =>
        `<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>${xml}`,
      /^XML格式错误: DOCTYPE/,
    ],
    ['a comment', (xml) => xml.replace('<body>', '<!-- x --><body>'), /^XML格式错误: comments/],
    [
      'a processing instruction inside',
      (xml) => xml.replace('<body>', '<?php x ?><body>'),
      /^XML格式错误/,
    ],
    ['a nested element', (xml) => xml.replace('<body>', '<body><b>x</b>'), /^XML格式错误: nested/],
    [
      'a duplicated field',
      (xml) => xml.replace('</xml>', '<total_fee>2</total_fee></xml>'),
      /^XML格式错误: field <total_fee> appears twice/,
    ],
    ['an unclosed root', (xml) => xml.replace('</xml>', ''), /^XML格式错误/],
    [
      'the wrong root',
      (xml) => xml.replace(/^<xml>/, '<root>').replace(/<\/xml>$/, '</root>'),
      /^XML格式错误: root/,
    ],
    ['an attribute', (xml) => xml.replace('<body>', '<body a="1">'), /^XML格式错误/],
    ['text after the root', (xml) => `${xml}junk`, /^XML格式错误: content after/],
    [
      'an undefined entity',
      (xml) => xml.replace('<body>', '<body>&nbsp;'),
      /^XML格式错误: undefined entity/,
    ],
    [
      'bytes that are not UTF-8',
      (xml) =>
        Buffer.concat([
          Buffer.from(xml.slice(0, 20)),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(xml.slice(20)),
        ]),
      /^编码格式错误/,
    ],
    ['JSON', () => JSON.stringify(ORDER), /^XML格式错误/],
    ['a form post', () => 'out_trade_no=HOSTILE0001&total_fee=1', /^XML格式错误/],
  ];
  for (const [name, mutate, message] of hostile) {
    test(`${name} → return_code FAIL, nothing stored`, async (t) => {
      const sandbox = await sandboxFor(t);
      const r = await postRaw(sandbox, '/pay/unifiedorder', mutate(signedOrder(sandbox)));
      assert.equal(r.status, 200);
      assert.equal(r.fields.return_code, 'FAIL');
      assert.match(r.fields.return_msg ?? '', message);
      assert.equal(r.fields.sign, undefined, 'an unauthenticated request gets no signed answer');
      assert.equal(r.text.includes('/etc/passwd'), false);
      assert.equal(sandbox.trade('HOSTILE0001'), undefined);
    });
  }

  test('a body of exactly 64 KiB is read; one byte more is refused before parsing', async (t) => {
    const sandbox = await sandboxFor(t);
    const xml = signedOrder(sandbox);
    const pad = (size: number) =>
      xml.replace('</xml>', `${' '.repeat(size - Buffer.byteLength(xml))}</xml>`);
    const atLimit = await postRaw(sandbox, '/pay/unifiedorder', pad(64 * 1024));
    assert.equal(atLimit.fields.result_code, 'SUCCESS', atLimit.text);
    const sandbox2 = await sandboxFor(t);
    const over = await postRaw(
      sandbox2,
      '/pay/unifiedorder',
      signedOrder(sandbox2).replace('</xml>', `${' '.repeat(64 * 1024)}</xml>`),
    );
    assert.equal(over.fields.return_code, 'FAIL');
    assert.match(over.fields.return_msg ?? '', /larger than 65536 bytes/);
    assert.equal(sandbox2.trade('HOSTILE0001'), undefined);
  });

  test('a 10 MB body is refused without being read whole', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await postRaw(
      sandbox,
      '/pay/unifiedorder',
      `<xml><body>${'a'.repeat(10 * 1024 * 1024)}</body></xml>`,
    );
    assert.equal(r.fields.return_code, 'FAIL');
    assert.match(r.fields.return_msg ?? '', /larger than/);
  });

  test('GET, an empty body and no body at all are refused', async (t) => {
    const sandbox = await sandboxFor(t);
    const get = await postRaw(sandbox, '/pay/orderquery', undefined, 'MD5', { method: 'GET' });
    assert.deepEqual({ ...get.fields }, { return_code: 'FAIL', return_msg: '请使用post方法' });
    const empty = await postRaw(sandbox, '/pay/orderquery', '');
    assert.deepEqual({ ...empty.fields }, { return_code: 'FAIL', return_msg: 'post数据为空' });
    const none = await fetch(`${sandbox.url}/pay/orderquery`, { method: 'POST' });
    assert.match(await none.text(), /post数据为空/);
  });

  test('any Content-Type is read as XML, like WeChat does', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await postRaw(sandbox, '/pay/unifiedorder', signedOrder(sandbox), 'MD5', {
      contentType: 'application/json',
    });
    assert.equal(r.fields.result_code, 'SUCCESS');
  });
});

describe('v2 endpoints: authentication', () => {
  test('a signature WeChat would reject is rejected (wrong key), nothing stored', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await v2(sandbox, '/pay/unifiedorder', ORDER, { key: 'x'.repeat(32) });
    assert.deepEqual({ ...r.fields }, { return_code: 'FAIL', return_msg: '签名错误' });
    assert.equal(sandbox.trade('HOSTILE0001'), undefined);
  });

  test('every field is covered by the signature: changing any one after signing is rejected', async (t) => {
    const sandbox = await sandboxFor(t);
    const xml = signedOrder(sandbox);
    for (const [name, value] of Object.entries(ORDER)) {
      const tampered = xml.replace(`<${name}>`, `<${name}>1`);
      assert.notEqual(tampered, xml, name);
      const r = await postRaw(sandbox, '/pay/unifiedorder', tampered);
      assert.equal(r.fields.return_msg, '签名错误', `${name}=${value}`);
    }
    const added = await postRaw(
      sandbox,
      '/pay/unifiedorder',
      xml.replace('</xml>', '<attach>x</attach></xml>'),
    );
    assert.equal(added.fields.return_msg, '签名错误', 'an added field is signed too');
    assert.equal(sandbox.trade('HOSTILE0001'), undefined);
  });

  test('a lower-case or truncated signature is rejected', async (t) => {
    const sandbox = await sandboxFor(t);
    const xml = signedOrder(sandbox);
    const sign = /<sign>([0-9A-F]+)<\/sign>/.exec(xml)![1]!;
    for (const bad of [sign.toLowerCase(), sign.slice(0, 31), `${sign}0`]) {
      const r = await postRaw(sandbox, '/pay/unifiedorder', xml.replace(sign, bad));
      assert.equal(r.fields.return_msg, '签名错误');
    }
  });

  test('HMAC-SHA256 requests are verified with HMAC and answered with HMAC', async (t) => {
    const sandbox = await sandboxFor(t);
    const r = await v2(sandbox, '/pay/unifiedorder', ORDER, { signType: 'HMAC-SHA256' });
    assert.equal(r.fields.result_code, 'SUCCESS');
    assert.equal(r.fields.sign?.length, 64);
    assert.equal(r.signed, true);
  });

  test('an MD5 signature under sign_type=HMAC-SHA256 is rejected (the message cannot pick a weaker check)', async (t) => {
    const sandbox = await sandboxFor(t);
    const fields: Record<string, string | number> = {
      appid: sandbox.credentials.appId,
      mch_id: sandbox.credentials.mchId,
      nonce_str: nonce(),
      sign_type: 'HMAC-SHA256',
      ...ORDER,
    };
    fields.sign = signV2(fields, sandbox.credentials.mchKey, 'MD5');
    const r = await postRaw(sandbox, '/pay/unifiedorder', encodeXml(fields));
    assert.equal(r.fields.return_msg, '签名错误');
  });

  test('missing mch_id, nonce_str or sign; unknown mch_id; bad sign_type; long nonce_str', async (t) => {
    const sandbox = await sandboxFor(t);
    const base = {
      appid: sandbox.credentials.appId,
      mch_id: sandbox.credentials.mchId,
      nonce_str: nonce(),
      ...ORDER,
    };
    const cases: [Record<string, string | number | undefined>, RegExp][] = [
      [{ ...base, mch_id: undefined }, /^缺少参数mch_id$/],
      [{ ...base, nonce_str: undefined }, /^缺少参数nonce_str$/],
      [
        { ...base, mch_id: '1234567890' },
        /merchant 1234567890 does not exist here; this sandbox plays merchant 1900000109/,
      ],
      [{ ...base, sign_type: 'SHA1' }, /^sign_type参数格式错误/],
      [{ ...base, nonce_str: 'n'.repeat(33) }, /^nonce_str参数长度有误/],
    ];
    for (const [fields, message] of cases) {
      const f = { ...fields, sign: signV2(fields, sandbox.credentials.mchKey) };
      const r = await postRaw(sandbox, '/pay/unifiedorder', encodeXml(f));
      assert.equal(r.fields.return_code, 'FAIL');
      assert.match(r.fields.return_msg ?? '', message);
    }
    const unsigned = await postRaw(sandbox, '/pay/unifiedorder', encodeXml(base));
    assert.equal(unsigned.fields.return_msg, '缺少参数sign');
    assert.equal(sandbox.trade('HOSTILE0001'), undefined);
  });

  test('a wrong or missing appid is a signed business error', async (t) => {
    const sandbox = await sandboxFor(t);
    const wrong = await v2(sandbox, '/pay/unifiedorder', { ...ORDER, appid: 'wx0000000000000bad' });
    assert.equal(wrong.fields.result_code, 'FAIL');
    assert.equal(wrong.fields.err_code, 'APPID_MCHID_NOT_MATCH');
    assert.equal(wrong.signed, true);
    const missing = await v2(sandbox, '/pay/unifiedorder', { ...ORDER, appid: undefined });
    assert.equal(missing.fields.err_code, 'LACK_PARAMS');
    assert.equal(sandbox.trade('HOSTILE0001'), undefined);
  });

  test('error answers never carry the expected signature or the key', async (t) => {
    const sandbox = await sandboxFor(t);
    const xml = signedOrder(sandbox);
    const r = await postRaw(
      sandbox,
      '/pay/unifiedorder',
      xml.replace(/<sign>[0-9A-F]+<\/sign>/, `<sign>${'0'.repeat(32)}</sign>`),
    );
    const expected = /<sign>([0-9A-F]+)<\/sign>/.exec(xml)![1]!;
    assert.equal(r.text.includes(expected), false);
    assert.equal(r.text.includes(sandbox.credentials.mchKey), false);
  });
});
