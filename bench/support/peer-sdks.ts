/**
 * minipay's protocol layer and the peer SDKs behind one small interface, each used the way its
 * own README or code does it. The peers live in bench/peers/node_modules (installed by
 * `ensurePeersInstalled`), never in minipay's dependencies.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeXml, readPaymentNotify, type SignType, signV2 } from '../../src/wechatpay/index.js';
import type { BenchMerchant } from './notify-cases.js';

export const PEERS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'peers');

export interface Library {
  name: string;
  version: string;
  /** Decode + verify one notify body; true when the library would hand it to the merchant. */
  readNotify(body: string, merchant: BenchMerchant): boolean | Promise<boolean>;
  sign(fields: Record<string, string>, key: string, signType: SignType): string;
  encode(fields: Record<string, string>): string | Promise<string>;
}

/** The versions bench/peers/package.json pins. */
function pinnedPeers(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(PEERS_DIR, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  return pkg.dependencies;
}

function installedVersion(name: string): string | undefined {
  const file = join(PEERS_DIR, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Installs the pinned peers into bench/peers/node_modules unless they are already there. */
export function ensurePeersInstalled(): void {
  const pinned = pinnedPeers();
  const missing = Object.entries(pinned).filter(([name, v]) => installedVersion(name) !== v);
  if (missing.length === 0) return;
  const what = missing.map(([name, v]) => `${name}@${v}`).join(', ');
  console.log(`peer SDKs: installing ${what} into bench/peers/node_modules (first run only)`);
  const args = ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'];
  console.log(`  npm ${args.join(' ')}`);
  const r = spawnSync('npm', args, { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm install of the peer SDKs failed (exit ${r.status})`);
  const still = Object.entries(pinned).filter(([name, v]) => installedVersion(name) !== v);
  if (still.length > 0) throw new Error(`peer SDKs still missing: ${still.map(([n]) => n)}`);
  console.log('peer SDKs: installed');
}

const peerRequire = createRequire(join(PEERS_DIR, 'package.json'));

// biome-ignore lint/suspicious/noExplicitAny: the peers are untyped CommonJS
type Untyped = any;

function isMerchants(data: Untyped, m: BenchMerchant): boolean {
  return data?.return_code === 'SUCCESS' && data.appid === m.appId && data.mch_id === m.mchId;
}

export function minipay(): Library {
  const pkg = JSON.parse(readFileSync(join(PEERS_DIR, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return {
    name: 'minipay',
    version: pkg.version,
    readNotify(body, m) {
      try {
        readPaymentNotify(body, {
          key: m.key,
          signType: m.signType,
          appId: m.appId,
          mchId: m.mchId,
        });
        return true;
      } catch {
        return false;
      }
    },
    sign: (fields, key, signType) => signV2(fields, key, signType),
    encode: (fields) => encodeXml(fields),
  };
}

/**
 * tenpay: its Koa middleware (`middleware('pay')`) is how it reads notifies. It has no
 * setting for the sign type: it verifies with the message's `sign_type`, MD5 when absent.
 */
export function tenpay(): Library {
  const Payment: Untyped = peerRequire('tenpay');
  const util: Untyped = peerRequire('tenpay/lib/util');
  const payments = new Map<string, Untyped>();
  const middlewareFor = (m: BenchMerchant): Untyped => {
    const id = `${m.appId}/${m.mchId}/${m.key}`;
    let mw = payments.get(id);
    if (!mw) {
      mw = new Payment({ appid: m.appId, mchid: m.mchId, partnerKey: m.key }).middleware('pay');
      payments.set(id, mw);
    }
    return mw;
  };
  const signer = new Payment({ appid: 'wx', mchid: '1', partnerKey: 'k' });
  return {
    name: 'tenpay',
    version: installedVersion('tenpay') ?? '?',
    async readNotify(body, m) {
      const ctx: Untyped = { request: { body } };
      let handedOver = false;
      await middlewareFor(m)(ctx, async () => {
        handedOver = true;
      });
      return handedOver && ctx.request.weixin !== undefined;
    },
    sign(fields, key, signType) {
      signer.partnerKey = key;
      return signer._getSign(fields, signType);
    },
    encode: (fields) => util.buildXML(fields),
  };
}

/**
 * wechatpay-axios-plugin: `Transformer.toObject` (fast-xml-parser) and `Hash.sign`, choosing
 * the algorithm by the length of `sign` as its docs and its own response verifier do.
 */
export function wechatpayAxiosPlugin(): Library {
  const { Transformer, Hash }: Untyped = peerRequire('wechatpay-axios-plugin');
  return {
    name: 'wechatpay-axios-plugin',
    version: installedVersion('wechatpay-axios-plugin') ?? '?',
    readNotify(body, m) {
      try {
        const data = Transformer.toObject(body);
        if (!isMerchants(data, m)) return false;
        const type = data.sign?.length === 64 ? 'HMAC-SHA256' : 'MD5';
        return Hash.equals(Hash.sign(type, data, m.key), data.sign) === true;
      } catch {
        return false;
      }
    },
    sign: (fields, key, signType) => Hash.sign(signType, fields, key),
    encode: (fields) => Transformer.toXml(fields),
  };
}

/**
 * wx-js-utils: `WXPayUtil.xml2obj` (xml2js) and `WXPay#isPayResultNotifySignatureValid`, a
 * port of the official Java SDK that verifies with the message's `sign_type`, MD5 when absent.
 */
export function wxJsUtils(): Library {
  const { WXPay, WXPayUtil }: Untyped = peerRequire('wx-js-utils');
  const clients = new Map<string, Untyped>();
  const clientFor = (m: BenchMerchant): Untyped => {
    const id = `${m.appId}/${m.mchId}/${m.key}/${m.signType}`;
    let c = clients.get(id);
    if (!c) {
      c = new WXPay({ appId: m.appId, mchId: m.mchId, key: m.key, signType: m.signType });
      clients.set(id, c);
    }
    return c;
  };
  return {
    name: 'wx-js-utils',
    version: installedVersion('wx-js-utils') ?? '?',
    async readNotify(body, m) {
      try {
        const data = await WXPayUtil.xml2obj(body);
        return isMerchants(data, m) && clientFor(m).isPayResultNotifySignatureValid(data) === true;
      } catch {
        return false;
      }
    },
    sign: (fields, key, signType) => WXPayUtil.generateSignature(fields, key, signType),
    encode: (fields) => WXPayUtil.obj2xml(fields),
  };
}

export function allLibraries(): Library[] {
  return [minipay(), tenpay(), wechatpayAxiosPlugin(), wxJsUtils()];
}
