/**
 * APIv3 payment notifications that tell a fail-closed reader from a careless one, for the v3
 * peer comparison (bench/v3-peers.bench.ts) and minipay's own test of the same cases
 * (test/bench/v3-notify-cases.test.ts). Each is what a Node server receives: the raw body and
 * the headers as `IncomingMessage.headers` has them (lower case, a repeated header joined
 * with ", ").
 *
 * The keys are fixed so that every process (each library runs in its own) gets the same
 * bytes: WeChat's published sample merchant key plays the platform (its size is what costs),
 * and a second certificate, made from the same key with another serial, the certificate mode.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { v3 } from '../../src/wechatpay/index.js';
import { OFFICIAL_KEY as SAMPLE_KEY } from '../../test/wechatpay/v3/support.js';

const key = createPrivateKey(SAMPLE_KEY);
const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();

/** What every library is configured with: the merchant, its APIv3 key and WeChat's keys. */
export const V3_MERCHANT = {
  mchId: '1900000109',
  appId: 'wxd678efh567hg6787',
  apiV3Key: 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb',
  publicKeyId: 'PUB_KEY_ID_0119000001092026010100000000000001',
  publicKeyPem,
  privateKeyPem: SAMPLE_KEY,
  merchantSerial: '408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB',
  certificate: {
    serialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
    pem: v3.issueCertificate({
      subjectKey: key,
      issuerKey: key,
      commonName: 'bench platform certificate',
      serialNo: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2035-01-01T00:00:00Z'),
    }),
  },
};

const apiV3Key = v3.loadApiV3Key(V3_MERCHANT.apiV3Key);
const publicKeySigner = v3.createRsaSigner({ privateKey: key, serialNo: V3_MERCHANT.publicKeyId });
const certificateSigner = v3.createRsaSigner({
  privateKey: key,
  serialNo: V3_MERCHANT.certificate.serialNo,
});

export const TRANSACTION = {
  appid: V3_MERCHANT.appId,
  mchid: V3_MERCHANT.mchId,
  out_trade_no: 'MP20260101120000ABCDEFGHJKLMNPQR',
  transaction_id: '4200000000202601011234567890',
  trade_type: 'JSAPI',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  attach: 'order 42',
  success_time: '2026-01-01T12:05:07+08:00',
  payer: { openid: 'oUpF8uMEb4qRXf22hE3X68TekukE' },
  amount: { total: 1999, payer_total: 1999, currency: 'CNY', payer_currency: 'CNY' },
};

export interface V3Message {
  headers: Record<string, string | undefined>;
  body: string;
}

export interface V3NotifyCase {
  id: string;
  title: string;
  expect: 'accept' | 'refuse';
  message: V3Message;
}

function headersOf(h: v3.WechatpayHeaders): Record<string, string> {
  return {
    'wechatpay-timestamp': h['Wechatpay-Timestamp'],
    'wechatpay-nonce': h['Wechatpay-Nonce'],
    'wechatpay-signature': h['Wechatpay-Signature'],
    'wechatpay-serial': h['Wechatpay-Serial'],
    'wechatpay-signature-type': h['Wechatpay-Signature-Type'],
    'content-type': 'application/json',
  };
}

function signedBy(body: string, signer = publicKeySigner, timestamp?: string): V3Message {
  return { headers: headersOf(v3.signWechatpayHeaders(signer, body, { timestamp })), body };
}

interface Options {
  resource?: object;
  eventType?: string;
  key?: v3.ApiV3Key;
  associatedData?: string;
  change?: (resource: Record<string, string>) => void;
}

/** A payment notification body; `change` alters its encrypted resource after encryption. */
function body(o: Options = {}): string {
  const resource = v3.encryptResource(
    o.key ?? apiV3Key,
    JSON.stringify(o.resource ?? TRANSACTION),
    {
      associatedData: o.associatedData ?? 'transaction',
      nonce: 'fdasflkja484',
    },
  );
  const r: Record<string, string> = { original_type: 'transaction', ...resource } as Record<
    string,
    string
  >;
  o.change?.(r);
  return JSON.stringify({
    id: 'EV-2018022511223320873',
    create_time: '2026-01-01T12:05:08+08:00',
    resource_type: 'encrypt-resource',
    event_type: o.eventType ?? 'TRANSACTION.SUCCESS',
    summary: '支付成功',
    resource: r,
  });
}

/** The valid notification every library is timed on. */
export function validV3Notify(): V3Message {
  return signedBy(body());
}

function flip(base64: string, at: number): string {
  const b = Buffer.from(base64, 'base64');
  b[at < 0 ? b.length + at : at]! ^= 0x08; // 1999 → 1991-style: still valid JSON
  return b.toString('base64');
}

export function v3NotifyCases(): V3NotifyCase[] {
  const now = Math.floor(Date.now() / 1000);
  const valid = validV3Notify();
  const otherKey = v3.loadApiV3Key('minipaybenchotherapiv3key0000002');
  const otherSigner = v3.createRsaSigner({
    privateKey: v3.loadPrivateKey(SAMPLE_KEY),
    serialNo: '1111111111111111111111111111111111111111',
  });
  return [
    {
      id: 'valid',
      title: 'valid notification (public key) accepted',
      expect: 'accept',
      message: valid,
    },
    {
      id: 'certificate',
      title: 'valid notification (platform certificate) accepted',
      expect: 'accept',
      message: signedBy(body(), certificateSigner),
    },
    {
      id: 'no-signature',
      title: 'Wechatpay-Signature missing refused',
      expect: 'refuse',
      message: { ...valid, headers: { ...valid.headers, 'wechatpay-signature': undefined } },
    },
    {
      id: 'duplicate-signature',
      title: 'Wechatpay-Signature twice (joined by Node) refused',
      expect: 'refuse',
      message: {
        ...valid,
        headers: {
          ...valid.headers,
          'wechatpay-signature': `${valid.headers['wechatpay-signature']}, ${v3.probeSignature()}`,
        },
      },
    },
    {
      id: 'stale',
      title: 'timestamp 6 minutes old (a replay) refused',
      expect: 'refuse',
      message: signedBy(body(), publicKeySigner, String(now - 360)),
    },
    {
      id: 'future',
      title: 'timestamp 6 minutes ahead refused',
      expect: 'refuse',
      message: signedBy(body(), publicKeySigner, String(now + 360)),
    },
    {
      id: 'unknown-serial',
      title: 'signed by a key of unknown serial refused',
      expect: 'refuse',
      message: signedBy(body(), otherSigner),
    },
    {
      id: 'probe',
      title: 'WECHATPAY/SIGNTEST/ probe signature refused',
      expect: 'refuse',
      message: {
        ...valid,
        headers: { ...valid.headers, 'wechatpay-signature': v3.probeSignature() },
      },
    },
    {
      id: 'tampered-body',
      title: 'body altered after signing refused',
      expect: 'refuse',
      message: { ...valid, body: valid.body.replace('支付成功', '支付成功!') },
    },
    {
      id: 'tampered-ciphertext',
      title: 'ciphertext altered (signature valid) refused: only the GCM tag catches it',
      expect: 'refuse',
      message: signedBy(body({ change: (r) => (r.ciphertext = flip(r.ciphertext!, 40)) })),
    },
    {
      id: 'tampered-tag',
      title: 'GCM tag altered (signature valid) refused',
      expect: 'refuse',
      message: signedBy(body({ change: (r) => (r.ciphertext = flip(r.ciphertext!, -1)) })),
    },
    {
      id: 'tampered-aad',
      title: 'associated_data altered (signature valid) refused',
      expect: 'refuse',
      message: signedBy(body({ change: (r) => (r.associated_data = 'refund') })),
    },
    {
      id: 'other-api-v3-key',
      title: 'resource encrypted with another APIv3 key refused',
      expect: 'refuse',
      message: signedBy(body({ key: otherKey })),
    },
    {
      id: 'not-json',
      title: 'signed body that is not JSON refused',
      expect: 'refuse',
      message: signedBy('<xml><return_code>SUCCESS</return_code></xml>'),
    },
    {
      id: 'oversized',
      title: 'signed body over 64 KiB refused',
      expect: 'refuse',
      message: signedBy(
        body().replace('"summary":"支付成功"', `"summary":"${'x'.repeat(70_000)}"`),
      ),
    },
    {
      id: 'wrong-event',
      title: 'REFUND.SUCCESS event at the payment endpoint refused',
      expect: 'refuse',
      message: signedBy(body({ eventType: 'REFUND.SUCCESS' })),
    },
    {
      id: 'other-merchant',
      title: "another merchant's trade (mchid) refused",
      expect: 'refuse',
      message: signedBy(body({ resource: { ...TRANSACTION, mchid: '1230000109' } })),
    },
  ];
}
