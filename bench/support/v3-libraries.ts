/**
 * minipay's APIv3 layer, the v3 peer SDKs on npm and the bare crypto floor behind one small
 * interface, each used the way its own README or code does it. The peers live in
 * bench/peers/node_modules (bench/support/peer-sdks.ts installs them).
 *
 * WeChat has no official Node.js SDK (its SDKs are Go, Java, PHP and .NET); the two peers are
 * the community SDKs: wechatpay-node-v3 (klover2/wechatpay-node-v3-ts) and
 * wechatpay-axios-plugin (TheNorthMemory), whose site wechatpay.js.org documents the notify
 * handler used here.
 */
import {
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  createVerify,
  randomBytes,
  sign,
} from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { v3 } from '../../src/wechatpay/index.js';
import { PEERS_DIR } from './peer-sdks.js';
import { TRANSACTION, V3_MERCHANT, type V3Message, validV3Notify } from './v3-notify-cases.js';

export interface V3Library {
  name: string;
  version: string;
  /** Whether the library's notify path would hand the decrypted payment to the merchant. */
  readNotify(message: V3Message): Promise<boolean>;
  /** The Authorization header of a POST of `body` (what every request pays for). */
  authorize(body: string): string;
}

const peerRequire = createRequire(join(PEERS_DIR, 'package.json'));
// biome-ignore lint/suspicious/noExplicitAny: the peers are untyped CommonJS
type Untyped = any;

function versionOf(name: string): string {
  return (peerRequire(`${name}/package.json`) as { version: string }).version;
}

const PATH = '/v3/pay/transactions/jsapi';
const M = V3_MERCHANT;

export function minipayV3(): V3Library {
  const apiV3Key = v3.loadApiV3Key(M.apiV3Key);
  const verifier = v3.bothVerifier(
    v3.publicKeyVerifier({ keyId: M.publicKeyId, publicKey: M.publicKeyPem }),
    new v3.CertificateVerifier(
      new v3.MemoryCertificateSource(
        async () => [],
        [
          {
            serialNo: M.certificate.serialNo,
            pem: M.certificate.pem,
            effectiveTime: new Date('2025-01-01T00:00:00Z'),
            expireTime: new Date('2035-01-01T00:00:00Z'),
          },
        ],
      ),
      { refreshIntervalMs: Number.POSITIVE_INFINITY },
    ),
  );
  const signer = v3.createRsaSigner({ privateKey: M.privateKeyPem, serialNo: M.merchantSerial });
  const options = { verifier, apiV3Key, mchId: M.mchId, appId: M.appId };
  return {
    name: 'minipay',
    version: (peerRequire('../../package.json') as { version: string }).version,
    async readNotify(message) {
      try {
        await v3.readPaymentNotification(message, options);
        return true;
      } catch {
        return false;
      }
    },
    authorize: (body) =>
      v3.buildAuthorization(signer, { mchId: M.mchId, method: 'POST', url: PATH, body }),
  };
}

/**
 * wechatpay-node-v3: `verifySign` (platform keys in the static `Pay.certificates`, PEM, as its
 * `fetchCertificates` keeps them), then `decipher_gcm`, as its README's notify example. Its
 * HTTP service is stubbed: an unknown serial makes it download certificates from WeChat.
 */
export function wechatpayNodeV3(): V3Library {
  const Pay: Untyped = peerRequire('wechatpay-node-v3');
  const pay = new Pay({
    appid: M.appId,
    mchid: M.mchId,
    serial_no: M.merchantSerial,
    publicKey: Buffer.from(M.certificate.pem),
    privateKey: Buffer.from(M.privateKeyPem),
    key: M.apiV3Key,
  });
  pay.createHttp({ get: async () => ({ status: 404 }), post: async () => ({ status: 404 }) });
  const certificatePublicKey = createPublicKey(M.certificate.pem).export({
    type: 'spki',
    format: 'pem',
  });
  Pay.certificates = {
    [M.publicKeyId]: M.publicKeyPem,
    [M.certificate.serialNo]: certificatePublicKey,
  };
  return {
    name: 'wechatpay-node-v3',
    version: versionOf('wechatpay-node-v3'),
    async readNotify({ headers, body }) {
      try {
        const ok = await pay.verifySign({
          timestamp: headers['wechatpay-timestamp'],
          nonce: headers['wechatpay-nonce'],
          serial: headers['wechatpay-serial'],
          signature: headers['wechatpay-signature'],
          body,
          apiSecret: M.apiV3Key,
        });
        if (!ok) return false;
        const { resource } = JSON.parse(body);
        const result = pay.decipher_gcm(
          resource.ciphertext,
          resource.associated_data,
          resource.nonce,
          M.apiV3Key,
        );
        return typeof result === 'object' && result !== null;
      } catch {
        return false;
      }
    },
    authorize: (body) =>
      pay.buildAuthorization('POST', `https://api.mch.weixin.qq.com${PATH}`, body),
  };
}

/**
 * wechatpay-axios-plugin: the handler of wechatpay.js.org (webhook/v3/TRANSACTION.SUCCESS):
 * the 300 s clock offset, the serial among the platform keys (`Rsa.from` key objects, its
 * loader), `Rsa.verify`, then `AesGcm.decrypt` (argument order of its README).
 */
export function wechatpayAxiosPluginV3(): V3Library {
  const { Rsa, Aes, Formatter }: Untyped = peerRequire('wechatpay-axios-plugin');
  const certs: Record<string, unknown> = {
    [M.publicKeyId]: Rsa.from(M.publicKeyPem, Rsa.KEY_TYPE_PUBLIC),
    [M.certificate.serialNo]: Rsa.from(M.certificate.pem, Rsa.KEY_TYPE_PUBLIC),
  };
  const privateKey = Rsa.from(M.privateKeyPem, Rsa.KEY_TYPE_PRIVATE);
  return {
    name: 'wechatpay-axios-plugin',
    version: versionOf('wechatpay-axios-plugin'),
    async readNotify({ headers, body }) {
      try {
        const timestamp = headers['wechatpay-timestamp'];
        const serial = headers['wechatpay-serial'] as string;
        if (Math.abs(Formatter.timestamp() - Number(timestamp)) > 300) return false;
        if (!Object.hasOwn(certs, serial)) return false;
        const message = Formatter.joinedByLineFeed(timestamp, headers['wechatpay-nonce'], body);
        if (!Rsa.verify(message, headers['wechatpay-signature'], certs[serial])) return false;
        const { resource } = JSON.parse(body);
        JSON.parse(
          Aes.AesGcm.decrypt(
            resource.ciphertext,
            M.apiV3Key,
            resource.nonce,
            resource.associated_data,
          ),
        );
        return true;
      } catch {
        return false;
      }
    },
    authorize(body) {
      const nonce = Formatter.nonce();
      const timestamp = Formatter.timestamp();
      const signature = Rsa.sign(
        Formatter.request('POST', PATH, timestamp, nonce, body),
        privateKey,
      );
      return Formatter.authorization(M.mchId, nonce, signature, timestamp, M.merchantSerial);
    },
  };
}

/**
 * The floor: what no library can avoid, with node:crypto alone and nothing else: one RSA
 * verify and one GCM decrypt (tag checked) for a notification; one RSA sign for a request.
 * It checks nothing else, so it has no behaviour column. Each is the fastest Node 20 call
 * measured for it: `createVerify` (the one-shot `crypto.verify` wraps the same OpenSSL call in
 * a crypto job and costs more), a decipher from the key's bytes (one from a `KeyObject` costs
 * more), the one-shot `crypto.sign` (signing's cost is the RSA private operation either way).
 */
export function cryptoFloor(): V3Library {
  const publicKey = createPublicKey(M.publicKeyPem);
  const privateKey = createPrivateKey(M.privateKeyPem);
  const key = Buffer.from(M.apiV3Key);
  // The inputs as a reader has them once it has read the message: not part of the floor.
  const prepared = new WeakMap<
    V3Message,
    { signed: Buffer; signature: Buffer; r: Record<string, string> }
  >();
  const prepare = ({ headers, body }: V3Message) => ({
    signed: Buffer.from(
      `${headers['wechatpay-timestamp']}\n${headers['wechatpay-nonce']}\n${body}\n`,
    ),
    signature: Buffer.from(headers['wechatpay-signature'] ?? '', 'base64'),
    r: (JSON.parse(body) as { resource: Record<string, string> }).resource,
  });
  return {
    name: 'crypto floor',
    version: process.versions.node,
    async readNotify(message) {
      let p = prepared.get(message);
      if (!p) {
        p = prepare(message);
        prepared.set(message, p);
      }
      if (!createVerify('sha256').update(p.signed).verify(publicKey, p.signature)) return false;
      const data = Buffer.from(p.r.ciphertext!, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, p.r.nonce!);
      d.setAuthTag(data.subarray(data.length - 16));
      d.setAAD(Buffer.from(p.r.associated_data!));
      d.update(data.subarray(0, data.length - 16));
      d.final();
      return true;
    },
    authorize: (body) =>
      sign(
        'sha256',
        Buffer.from(`POST\n${PATH}\n1\n${randomBytes(4).toString('hex')}\n${body}\n`),
        privateKey,
      ).toString('base64'),
  };
}

export const PEER_LIBRARIES = [wechatpayNodeV3, wechatpayAxiosPluginV3];

export function allV3Libraries(): V3Library[] {
  return [minipayV3(), ...PEER_LIBRARIES.map((make) => make()), cryptoFloor()];
}

export function libraryByName(name: string): V3Library {
  const lib = allV3Libraries().find((l) => l.name === name);
  if (!lib) throw new Error(`no library ${name}`);
  return lib;
}

const PREPAY_BODY = JSON.stringify({
  appid: M.appId,
  mchid: M.mchId,
  description: '咖啡 Coffee',
  out_trade_no: TRANSACTION.out_trade_no,
  notify_url: 'https://shop.example/wechatpay/v3/notify',
  amount: { total: 1999, currency: 'CNY' },
  payer: { openid: TRANSACTION.payer.openid },
});

/** The timed operations, on the same inputs for every library. */
export const SPEED_OPERATIONS: Readonly<Record<string, (lib: V3Library) => () => unknown>> = {
  'notify verify+decrypt': (lib) => {
    const message = validV3Notify();
    return () => lib.readNotify(message);
  },
  'sign request (Authorization)': (lib) => () => lib.authorize(PREPAY_BODY),
};
