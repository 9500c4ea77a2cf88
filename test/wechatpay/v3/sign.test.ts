/**
 * APIv3 request signatures: WeChat's official vector (docs/wechat-rules.md, "APIv3 request
 * signatures"), the Authorization header both ways, and WeChat's own answer signatures.
 */
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, it } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';
import {
  identities,
  OFFICIAL_KEY,
  OFFICIAL_MCHID,
  OFFICIAL_SERIAL,
  rejectsWith,
} from './support.js';

const BODY =
  '{"appid":"wxd678efh567hg6787","mchid":"1900007291","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}';
const SIGNATURE =
  'jnks4dlrPw3ZX+ozVvSK39oa0t7OMBsg83BHAwd8BRdUFiVaQNTLTvci+wURgP1OQBbKYhFGvt7iqYpDSTQkp7Uq1sltaQKyncCyrA1g88m5bsKERQfPyT0ahSwKTYJ1CAn9QiJuSJRq1QsQs07eehbU/k9BCS51jTyc1Jpsi2H77HF9f/BnjXAOP3/sPObg6V5Ee4EzwLox684hhuMuIwHo7D8KFk3LIHOKDcNI4It1aCXydFWNpNK+SG86VUDe5kwoDpw4Ulqfu9z8OFDGbDs9TCxEv8iqQzbpxOlEVoOe2kalSYM5kApQb3nZcxdUtoE0liJGW3RGUNE0t4v01A==';

const official = v3.createRsaSigner({ privateKey: OFFICIAL_KEY, serialNo: OFFICIAL_SERIAL });

describe('APIv3 request signatures', () => {
  it('reproduces the official vector of 签名生成', () => {
    const message = v3.requestMessage(
      'POST',
      '/v3/pay/transactions/jsapi',
      '1554208460',
      '593BEC0C930BF1AFEB40B4A08C8FB242',
      BODY,
    );
    assert.ok(message.endsWith(`${BODY}\n`));
    assert.deepEqual(official.sign(message), { serialNo: OFFICIAL_SERIAL, signature: SIGNATURE });
  });

  it('builds the Authorization header with the five pairs, and parses it back', () => {
    const header = v3.buildAuthorization(official, {
      mchId: OFFICIAL_MCHID,
      method: 'POST',
      url: '/v3/pay/transactions/jsapi',
      body: BODY,
      timestamp: '1554208460',
      nonce: '593BEC0C930BF1AFEB40B4A08C8FB242',
    });
    assert.equal(
      header,
      `WECHATPAY2-SHA256-RSA2048 mchid="1900007291",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="${OFFICIAL_SERIAL}",signature="${SIGNATURE}"`,
    );
    assert.deepEqual(v3.parseAuthorization(header), {
      mchId: OFFICIAL_MCHID,
      nonce: '593BEC0C930BF1AFEB40B4A08C8FB242',
      timestamp: '1554208460',
      serialNo: OFFICIAL_SERIAL,
      signature: SIGNATURE,
    });
    const publicKey = createPublicKey(OFFICIAL_KEY);
    const p = v3.parseAuthorization(header);
    const signed = v3.requestMessage(
      'POST',
      '/v3/pay/transactions/jsapi',
      p.timestamp,
      p.nonce,
      BODY,
    );
    assert.ok(v3.rsaVerify(publicKey, Buffer.from(signed), p.signature));
  });

  it('signs a GET with an empty body line, and a fresh nonce and timestamp each time', () => {
    assert.equal(
      v3.requestMessage('GET', '/v3/certificates', '1', 'n', ''),
      'GET\n/v3/certificates\n1\nn\n\n',
    );
    const a = v3.parseAuthorization(
      v3.buildAuthorization(official, { mchId: '1', method: 'GET', url: '/x', body: '' }),
    );
    const b = v3.parseAuthorization(
      v3.buildAuthorization(official, { mchId: '1', method: 'GET', url: '/x', body: '' }),
    );
    assert.notEqual(a.nonce, b.nonce);
    assert.ok(Math.abs(Number(a.timestamp) - Date.now() / 1000) < 5);
  });

  it('refuses malformed Authorization headers, naming what is wrong', async () => {
    const good = v3.buildAuthorization(official, {
      mchId: '1',
      method: 'GET',
      url: '/x',
      body: '',
    });
    const cases: [string | undefined, string, RegExp][] = [
      [undefined, 'MISSING_AUTHORIZATION', /no Authorization/],
      [good.replace('WECHATPAY2-SHA256-RSA2048', 'Bearer'), 'BAD_AUTHORIZATION', /scheme/],
      [`${good},mchid="2"`, 'BAD_AUTHORIZATION', /mchid twice/],
      [good.replace(/,serial_no="[^"]*"/, ''), 'BAD_AUTHORIZATION', /no serial_no/],
      [`${good},extra="1"`, 'BAD_AUTHORIZATION', /other than/],
      [good.replace('mchid="1"', 'mchid=1'), 'BAD_AUTHORIZATION', /malformed/],
    ];
    for (const [header, code, message] of cases) {
      const e = await rejectsWith(
        Promise.resolve().then(() => v3.parseAuthorization(header)),
        'invalid',
        code,
      );
      assert.match(e.message, message);
    }
  });

  it('signs answers as WeChat does: TIMESTAMP\\nNONCE\\nBODY\\n with the platform serial', async () => {
    const { publicKey } = await identities();
    const headers = v3.signWechatpayHeaders(publicKey.signer, '{"a":1}', {
      timestamp: '1700000000',
      nonce: 'N',
    });
    assert.equal(headers['Wechatpay-Serial'], publicKey.keyId);
    assert.equal(headers['Wechatpay-Signature-Type'], 'WECHATPAY2-SHA256-RSA2048');
    const key = v3.loadPublicKey(publicKey.publicKeyPem);
    const message = Buffer.from('1700000000\nN\n{"a":1}\n');
    assert.ok(v3.rsaVerify(key, message, headers['Wechatpay-Signature']));
    assert.ok(
      !v3.rsaVerify(key, Buffer.from('1700000000\nN\n{"a":2}\n'), headers['Wechatpay-Signature']),
    );
    assert.ok(v3.probeSignature().startsWith(v3.SIGN_PROBE_PREFIX));
  });

  it('a signer checks its key, serial and certificate together', async () => {
    const { merchant } = await identities();
    v3.createRsaSigner({
      privateKey: merchant.privateKeyPem,
      serialNo: merchant.serialNo,
      certificate: merchant.certificatePem,
    });
    assert.throws(
      () =>
        v3.createRsaSigner({
          privateKey: OFFICIAL_KEY,
          serialNo: merchant.serialNo,
          certificate: merchant.certificatePem,
        }),
      /private key does not belong to the merchant certificate/,
    );
    assert.throws(
      () =>
        v3.createRsaSigner({
          privateKey: merchant.privateKeyPem,
          serialNo: OFFICIAL_SERIAL,
          certificate: merchant.certificatePem,
        }),
      /certificate serial is .*, not 408B07/,
    );
    assert.throws(
      () => v3.createRsaSigner({ privateKey: OFFICIAL_KEY, serialNo: 'not-a-serial' }),
      /certificate serial \(hex/,
    );
  });

  it('checks a merchant request as WeChat does (verifyAuthorization, for a simulator)', async () => {
    const { merchant } = await identities();
    const key = v3.loadPublicKey(merchant.certificatePem);
    const publicKeyFor = (mchId: string, serialNo: string) =>
      mchId === merchant.mchId && serialNo === merchant.serialNo ? key : undefined;
    const url = '/v3/pay/transactions/out-trade-no/MP1?mchid=1900000109';
    const header = v3.buildAuthorization(merchant.signer, {
      mchId: merchant.mchId,
      method: 'GET',
      url,
      body: '',
    });
    const ok = v3.verifyAuthorization({ header, method: 'GET', url, body: '', publicKeyFor });
    assert.equal(ok.serialNo, merchant.serialNo);
    const post = v3.buildAuthorization(merchant.signer, {
      mchId: merchant.mchId,
      method: 'POST',
      url: '/v3/x',
      body: '{"a":"中"}',
    });
    v3.verifyAuthorization({
      header: post,
      method: 'POST',
      url: '/v3/x',
      body: Buffer.from('{"a":"中"}'),
      publicKeyFor,
    });
    const refused: [Partial<v3.VerifyAuthorizationInput>, string][] = [
      [{ url: '/v3/pay/transactions/out-trade-no/MP2?mchid=1900000109' }, 'BAD_SIGNATURE'],
      [{ method: 'POST' }, 'BAD_SIGNATURE'],
      [{ body: '{}' }, 'BAD_SIGNATURE'],
      [{ publicKeyFor: () => undefined }, 'UNKNOWN_SERIAL'],
      [{ publicKeyFor: () => createPublicKey(OFFICIAL_KEY) }, 'BAD_SIGNATURE'],
      [{ now: () => Date.now() + 600_000 }, 'STALE_TIMESTAMP'],
      [{ header: undefined }, 'MISSING_AUTHORIZATION'],
    ];
    for (const [over, code] of refused) {
      assert.throws(
        () =>
          v3.verifyAuthorization({ header, method: 'GET', url, body: '', publicKeyFor, ...over }),
        (e: v3.WechatPayV3Error) => e.code === code,
        code,
      );
    }
  });
});
