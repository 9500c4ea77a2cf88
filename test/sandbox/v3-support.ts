/**
 * Driving the sandbox's APIv3 paths as a merchant would: the protocol layer's own client,
 * signing with the sandbox's demo merchant key and verifying in the mode it plays.
 */
import type { TestContext } from 'node:test';
import type { Sandbox, SandboxOptions } from '../../src/sandbox/index.js';
import {
  bothVerifier,
  CertificateVerifier,
  createRsaSigner,
  downloadCertificates,
  loadApiV3Key,
  MemoryCertificateSource,
  publicKeyVerifier,
  type Signer,
  type Verifier,
  WechatPayV3Client,
} from '../../src/wechatpay/v3/index.js';
import { sandboxFor } from './support.js';

export interface V3Merchant {
  sandbox: Sandbox;
  client: WechatPayV3Client;
  signer: Signer;
  verifier: Verifier;
  /** Which serial verified each answer, in order. */
  serials: string[];
}

/** A sandbox and a v3 client of its demo merchant, verifying in the sandbox's mode. */
export async function v3MerchantFor(
  t: TestContext,
  options: SandboxOptions = {},
): Promise<V3Merchant> {
  const sandbox = await sandboxFor(t, { closeMinAgeMs: 0, refundIntervalMs: 0, ...options });
  const demo = sandbox.demoMerchant!;
  const signer = createRsaSigner({
    privateKey: demo.privateKeyPem,
    serialNo: demo.serialNo,
    certificate: demo.certificatePem,
  });
  const serials: string[] = [];
  const verifier = verifierFor(sandbox, signer);
  const client = new WechatPayV3Client({
    mchId: sandbox.credentials.mchId,
    signer,
    verifier,
    baseUrl: sandbox.url,
    retry: { attempts: 0 },
    onVerified: ({ verification }) => serials.push(verification.serial),
  });
  t.after(() => client.close());
  return { sandbox, client, signer, verifier, serials };
}

/** The verifier of the sandbox's mode; certificates downloaded from it on demand. */
export function verifierFor(sandbox: Sandbox, signer: Signer): Verifier {
  const platform = sandbox.v3Platform();
  const publicKey = publicKeyVerifier({
    keyId: platform.publicKeyId,
    publicKey: platform.publicKeyPem,
  });
  if (platform.mode === 'public_key') return publicKey;
  const apiV3Key = loadApiV3Key(sandbox.credentials.apiV3Key);
  const fallback = platform.mode === 'both' ? publicKey : undefined;
  const downloader = new WechatPayV3Client({
    mchId: sandbox.credentials.mchId,
    signer,
    verifier: publicKey,
    baseUrl: sandbox.url,
  });
  const certificates = new CertificateVerifier(
    new MemoryCertificateSource(() => downloadCertificates(downloader, apiV3Key, { fallback })),
    { unknownSerialGapMs: 0 },
  );
  return platform.mode === 'both' ? bothVerifier(publicKey, certificates) : certificates;
}
