/**
 * Helpers for the APIv3 tests: WeChat's official sample merchant key (docs/wechat-rules.md),
 * generated identities (made once per process: RSA key generation is slow), and a small fake
 * WeChat on loopback that checks each request's Authorization with the merchant certificate
 * and signs its answers as the platform, answering what a test tells it to.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';

/** The official sample merchant key of WeChat's 签名生成 page (docs/wechat-rules.md). */
export const OFFICIAL_KEY = `-----BEGIN PRIVATE KEY-----
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQCm2mb6q8gMKH/3
CNTbpJAIrbqiBiQGEOtjGcBrDYltsGynWgNscqT7WvfzU14FQbYcQUC5T4Wvva7m
i3fIp3OgX8VqMDNA0qebnr38Pe6kqiLyZgFpJPXlSKDyPyqhRbVTbXssvSMQeVKc
dXeVxoNNeoOlNFHgF/P0io6AmAVnz+hN8SiZKuOsth5/zUTLGvtkgxBcQooQrtXh
RcpLT798OyIb9xeJ2HO3xRtMv2+perEzb4gMibI74UBz+2QEbnkubPE+2jU2rRZu
dnNEz/BPOt3Qj/w2V6/G0VumGDh6+UeMU0jv4aupHztWITC4Akn0l7lBCNy3lgl8
VFaJnkIxAgMBAAECggEAYGL8aESB7NwciDWW2UdoWUsa7GxFtSdjAz2mFXGdeTsY
mVh7b9OOkRGM+Qio4LqEHDBp1mMk5E/cUJwy1zw8pGGO5nfvs7u9TT3XnHaefIs4
YvUgTYAneIuLRkXNN5rQU+CD7mVYczTSz0Vgjqo9wa1LjUz7G0xbBmJgTdMEFGJs
eJjy6AbJo0CGIwp6HJbTm4CmOUgXnnDAIbEGTIRImkZFH/rzneIeR7oZ77FVwxr1
CZB2gfRCov/yRPbw8vnryYkmvQ7D/ze3j5097vRg/MoDGBSdoOwcmo75vyofr0AS
zytMjmHYyifqkf5slPropSiJeGf4p/7gtKyF6dE/XQKBgQDVAlJ+4U5ZVGOuDc3+
sAhz8CTzgFNlq9vKuSoFK6hOz2L+cwj+E7NXGkOe2DsHHZNy2Xqxk7caKhPEp1z9
hhpMpyLVMoFt6CKemyoRBWDCQwLLwem9SZF/IAyovBkLiH36P42Jm26gUkNMKC/5
Zhtqxf6RZgRQzbVudJi47vIRCwKBgQDIh0+v27Oo+DM3fhObH4I1NrXpWOEGH7OQ
G1dEsMuFYF4hjGhg0kBEP3w9vVdl2+mRllZKTsx9oqjb8OibPLLIH8xsdbAB0WLf
JvjLu4wl/ILUzN1RI03dWnnv2EnEeQn6c3hizvrJ9wR5U4ue9RPVnQooJ0hZF1PU
uCL5fWK3MwKBgElReU/PAYbh80WP3t3Rfbdaa32dKBeQ5iCLR5lsA4zM+YgX1HqQ
EWTj126vgvHaDkyz6vWAoL/Sx+cirHFfXWIRDX5Q2hgYlQH+6qXdMgbrxeSYpHnQ
/tHBGFpkFELSAnrGsVMyOwvYBO4LzyeLK9i+ufcWJFoj1FVmsMLHDG8tAoGARdbi
iQQCoYG4DMarO2aQ6cmhN6EN1h0qY7EyBqlwaIZ0okiNfdMcMOjPc41DKCWcRmlO
qlihXcxN9TQFPzO3rH1urAOdBjUPs1qWYhZyrDQyuLyVBBJApyxAtajloDjrob+f
mQIvVDHk7ACN6xG+E7K6+9salnTKbJapD618uQMCgYBNy6XUvzLkP/A1U/UZdtcx
l8GwU/dturLxz4CyGbqDw4ubaYY2e13lnqHUqQgPtiSyH51nq3tdo8G0YAJdfkSv
KvnfslW91fyEBUKnkdW1o3/1UFU/wprZ7ixVL/F42A4xDu7OFE8EnweJOZ0jWceE
OdhCkaIGBCfRnlECRK8UyQ==
-----END PRIVATE KEY-----
`;
export const OFFICIAL_SERIAL = '408B07E79B8269FEC3D5D3E6AB8ED163A6A380DB';
export const OFFICIAL_MCHID = '1900007291';

export const MCH_ID = '1900000109';
export const APP_ID = 'wxd678efh567hg6787';
export const API_V3_KEY = 'a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb';

export interface Identities {
  merchant: v3.MerchantIdentity;
  publicKey: v3.PublicKeyIdentity;
  /** Two overlapping platform certificates: the current one and the next (a rotation). */
  oldCertificate: v3.PlatformCertificateIdentity;
  newCertificate: v3.PlatformCertificateIdentity;
  apiV3Key: v3.ApiV3Key;
}

let made: Promise<Identities> | undefined;

/** Generated once per test process. */
export function identities(): Promise<Identities> {
  made ??= (async () => {
    const day = 86_400_000;
    const now = Date.now();
    const [merchant, publicKey, oldCertificate, newCertificate] = await Promise.all([
      v3.generateMerchantIdentity(MCH_ID),
      v3.generatePublicKeyIdentity(),
      v3.generatePlatformCertificate({
        notBefore: new Date(now - 300 * day),
        notAfter: new Date(now + 60 * day),
      }),
      v3.generatePlatformCertificate({
        notBefore: new Date(now - day),
        notAfter: new Date(now + 1800 * day),
      }),
    ]);
    return {
      merchant,
      publicKey,
      oldCertificate,
      newCertificate,
      apiV3Key: v3.loadApiV3Key(API_V3_KEY),
    };
  })();
  return made;
}

/** A request as the fake WeChat saw it (Authorization verified). */
export interface SeenRequest {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

export interface FakeAnswer {
  status: number;
  body?: unknown;
  /** Who signs the answer: a signer, `false` for none. Default: the fake's platform signer. */
  signer?: v3.Signer | false;
  /** Change the body after signing (a proxy's tampering). */
  tamper?: (body: Buffer) => Buffer;
  headers?: Record<string, string>;
}

export interface FakeWechat {
  url: string;
  seen: SeenRequest[];
  /** The next answers, by `METHOD path-without-query`; the last one repeats. */
  answer(route: string, ...answers: (FakeAnswer | ((req: SeenRequest) => FakeAnswer))[]): void;
}

/**
 * A fake WeChat: 401 SIGN_ERROR when the Authorization does not verify with the merchant
 * certificate, else the queued answer for the route (404 when none), signed by `signer`.
 */
export async function fakeWechat(
  t: TestContext,
  options: { merchant: v3.MerchantIdentity; signer: v3.Signer },
): Promise<FakeWechat> {
  const routes = new Map<string, (FakeAnswer | ((req: SeenRequest) => FakeAnswer))[]>();
  const seen: SeenRequest[] = [];
  const merchantKey = v3.loadPublicKey(options.merchant.certificatePem);
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '/';
    const request = { method: req.method ?? 'GET', path, body, headers: req.headers };
    let answer: FakeAnswer;
    try {
      const auth = v3.parseAuthorization(req.headers.authorization);
      const message = v3.requestMessage(request.method, path, auth.timestamp, auth.nonce, body);
      if (
        auth.mchId !== options.merchant.mchId ||
        auth.serialNo !== options.merchant.serialNo ||
        !v3.rsaVerify(merchantKey, Buffer.from(message), auth.signature)
      ) {
        throw new Error('signature');
      }
      seen.push(request);
      const queue = routes.get(`${request.method} ${path.split('?')[0]}`) ?? [];
      const next = queue.length > 1 ? queue.shift()! : queue[0];
      answer =
        next === undefined
          ? { status: 404, body: { code: 'RESOURCE_NOT_EXISTS', message: 'no route' } }
          : typeof next === 'function'
            ? next(request)
            : next;
    } catch {
      answer = { status: 401, body: { code: 'SIGN_ERROR', message: '签名错误' } };
    }
    const text =
      answer.body === undefined
        ? Buffer.alloc(0)
        : Buffer.isBuffer(answer.body)
          ? answer.body
          : Buffer.from(
              typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body),
            );
    const signer = answer.signer === undefined ? options.signer : answer.signer;
    const headers: Record<string, string> = { 'request-id': 'REQ-1', ...(answer.headers ?? {}) };
    if (signer) Object.assign(headers, v3.signWechatpayHeaders(signer, text));
    if (text.length) headers['content-type'] = 'application/json';
    res.writeHead(answer.status, headers).end(answer.tamper ? answer.tamper(text) : text);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    answer(route, ...answers) {
      routes.set(route, answers);
    },
  };
}

/** A client of the fake, in public key mode unless a verifier is given. */
export function clientOf(
  t: TestContext,
  fake: FakeWechat,
  ids: Identities,
  options: Partial<v3.WechatPayV3ClientOptions> = {},
): v3.WechatPayV3Client {
  const client = new v3.WechatPayV3Client({
    mchId: ids.merchant.mchId,
    signer: v3.createRsaSigner({
      privateKey: ids.merchant.privateKeyPem,
      serialNo: ids.merchant.serialNo,
      certificate: ids.merchant.certificatePem,
    }),
    verifier: v3.publicKeyVerifier({
      keyId: ids.publicKey.keyId,
      publicKey: ids.publicKey.publicKeyPem,
    }),
    baseUrl: fake.url,
    retry: { attempts: 2, delayMs: 1 },
    ...options,
  });
  t.after(() => client.close());
  return client;
}

/** Asserts `promise` rejects with a WechatPayError of `kind` and `code`; returns it. */
export async function rejectsWith(
  promise: Promise<unknown>,
  kind: string,
  code: string,
): Promise<v3.WechatPayV3Error> {
  try {
    await promise;
  } catch (err) {
    const e = err as v3.WechatPayV3Error;
    assert.equal(`${e.kind} ${e.code}`, `${kind} ${code}`, e.message);
    return e;
  }
  assert.fail(`expected ${kind} ${code}, got a result`);
}
