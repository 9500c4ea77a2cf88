/**
 * Key material for whoever plays WeChat (the sandbox, tests): a WeChat Pay public key with its
 * `PUB_KEY_ID_…`, platform certificates (to serve from `/v3/certificates` and rotate), and a
 * merchant API certificate with its private key (demo credentials). Each comes with the
 * `Signer` that signs as its holder.
 */
import { generateKeyPair, type KeyObject, randomInt, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import type { PlatformCertificate } from './certificates.js';
import { createRsaSigner, type Signer } from './sign.js';
import { issueCertificate } from './x509.js';

const generateRsa = promisify(generateKeyPair);

async function rsaKeyPair(): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  return generateRsa('rsa', { modulusLength: 2048 });
}

/** WeChat Pay's public key as a merchant downloads it, and the key that signs with it. */
export interface PublicKeyIdentity {
  keyId: string;
  publicKeyPem: string;
  privateKey: KeyObject;
  signer: Signer;
}

/** A fresh WeChat Pay public key (`PUB_KEY_ID_` and 32 digits by default). */
export async function generatePublicKeyIdentity(keyId?: string): Promise<PublicKeyIdentity> {
  const id = keyId ?? `PUB_KEY_ID_${Array.from({ length: 32 }, () => randomInt(10)).join('')}`;
  const { privateKey, publicKey } = await rsaKeyPair();
  return {
    keyId: id,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey,
    signer: createRsaSigner({ privateKey, serialNo: id }),
  };
}

/** A platform certificate and the key that signs as it. */
export interface PlatformCertificateIdentity {
  certificate: PlatformCertificate;
  privateKey: KeyObject;
  signer: Signer;
}

/** A fresh self-signed platform certificate valid from `notBefore` to `notAfter`. */
export async function generatePlatformCertificate(options: {
  notBefore: Date;
  notAfter: Date;
  serialNo?: string;
}): Promise<PlatformCertificateIdentity> {
  const { privateKey } = await rsaKeyPair();
  const pem = issueCertificate({
    subjectKey: privateKey,
    issuerKey: privateKey,
    commonName: 'Tenpay.com sandbox platform certificate',
    organization: 'minipay sandbox',
    serialNo: options.serialNo,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
  });
  const serialNo = new X509Certificate(pem).serialNumber;
  return {
    certificate: { serialNo, pem, effectiveTime: options.notBefore, expireTime: options.notAfter },
    privateKey,
    signer: createRsaSigner({ privateKey, serialNo, certificate: pem }),
  };
}

/** A merchant API certificate (`apiclient_cert.pem`) and its private key (`apiclient_key.pem`). */
export interface MerchantIdentity {
  mchId: string;
  serialNo: string;
  privateKeyPem: string;
  certificatePem: string;
  signer: Signer;
}

/** Fresh merchant API credentials, valid for `years` (default 5) from now. */
export async function generateMerchantIdentity(
  mchId: string,
  years = 5,
): Promise<MerchantIdentity> {
  const { privateKey } = await rsaKeyPair();
  const now = Date.now();
  const certificatePem = issueCertificate({
    subjectKey: privateKey,
    issuerKey: privateKey,
    commonName: `${mchId} merchant API certificate`,
    organization: 'minipay sandbox',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + years * 365 * 86_400_000),
  });
  const serialNo = new X509Certificate(certificatePem).serialNumber;
  return {
    mchId,
    serialNo,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificatePem,
    signer: createRsaSigner({ privateKey, serialNo, certificate: certificatePem }),
  };
}
