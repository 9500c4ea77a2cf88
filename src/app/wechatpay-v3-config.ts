/**
 * The APIv3 part of the configuration (docs/configuration.md, "APIv3"): the merchant private
 * key and its certificate serial, the APIv3 key, and WeChat Pay's public key with its id
 * (absent: platform certificate mode). Every file is read and every piece checked at start-up
 * with the protocol layer's own loaders, so a wrong piece is named before WeChat refuses it:
 * a certificate given where the key belongs, a 31-byte APIv3 key, a key that is not the one of
 * the serial's certificate (MINIPAY_MCH_CERT_FILE), a public key id that is not `PUB_KEY_ID_…`.
 */
import { readFileSync } from 'node:fs';
import {
  checkMerchantCertificate,
  checkSerial,
  loadApiV3Key,
  loadCertificate,
  loadPrivateKey,
  publicKeyVerifier,
} from '../wechatpay/v3/index.js';

export type WechatPayApiSetting = 'v2' | 'v3';

export interface WechatPayV3Credentials {
  /** The merchant API private key (apiclient_key.pem), PEM. */
  privateKeyPem: string;
  /** The merchant API certificate serial (`serial_no` of every request). */
  certSerial: string;
  apiV3Key: string;
  /** WeChat Pay's public key and its id; absent: platform certificate mode. */
  publicKey: { id: string; pem: string } | undefined;
  /** The key that replaces it (MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_*): both verify meanwhile. */
  nextPublicKey: { id: string; pem: string } | undefined;
}

export const V3_VARIABLES = [
  'MINIPAY_MCH_PRIVATE_KEY_FILE',
  'MINIPAY_MCH_CERT_SERIAL',
  'MINIPAY_API_V3_KEY',
] as const;

/** Reads and checks the v3 variables; problems are pushed, undefined when any is wrong. */
export function wechatpayV3Config(
  get: (name: string) => string | undefined,
  problems: string[],
): WechatPayV3Credentials | undefined {
  const before = problems.length;
  for (const name of V3_VARIABLES) {
    if (get(name) === undefined) {
      problems.push(`${name} is not set: MINIPAY_WECHATPAY_API=v3 needs it (${WHAT[name]})`);
    }
  }
  const privateKeyPem = readPem('MINIPAY_MCH_PRIVATE_KEY_FILE', get, problems);
  const certSerial = get('MINIPAY_MCH_CERT_SERIAL');
  const apiV3Key = get('MINIPAY_API_V3_KEY');
  check('MINIPAY_MCH_CERT_SERIAL', problems, () => certSerial && checkSerial(certSerial, 'it'));
  check('MINIPAY_API_V3_KEY', problems, () => apiV3Key && loadApiV3Key(apiV3Key));
  const key = check(
    'MINIPAY_MCH_PRIVATE_KEY_FILE',
    problems,
    () => privateKeyPem && loadPrivateKey(privateKeyPem),
  );
  const certificatePem = readPem('MINIPAY_MCH_CERT_FILE', get, problems);
  if (certificatePem && key && certSerial) {
    check('MINIPAY_MCH_CERT_FILE', problems, () =>
      checkMerchantCertificate(
        key,
        loadCertificate(certificatePem, 'the merchant certificate (apiclient_cert.pem)'),
        certSerial,
      ),
    );
  }
  const publicKey = publicKeyConfig(get, problems);
  const nextPublicKey = publicKeyConfig(get, problems, '_NEXT');
  if (nextPublicKey && !publicKey) {
    problems.push(
      'MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_FILE and _NEXT_ID need MINIPAY_WECHATPAY_PUBLIC_KEY_FILE and _ID (the key in use now); to replace it, give both pairs, then move the next one into place',
    );
  }
  if (nextPublicKey && nextPublicKey.id === publicKey?.id) {
    problems.push(
      `MINIPAY_WECHATPAY_PUBLIC_KEY_NEXT_ID is the id in use (${publicKey.id}): give the id of the new key, or leave the _NEXT pair unset`,
    );
  }
  if (problems.length > before) return undefined;
  return {
    privateKeyPem: privateKeyPem!,
    certSerial: certSerial!,
    apiV3Key: apiV3Key!,
    publicKey,
    nextPublicKey,
  };
}

const WHAT: Readonly<Record<(typeof V3_VARIABLES)[number], string>> = {
  MINIPAY_MCH_PRIVATE_KEY_FILE: 'the merchant API private key file, apiclient_key.pem',
  MINIPAY_MCH_CERT_SERIAL:
    'the merchant API certificate serial: openssl x509 -noout -serial -in apiclient_cert.pem',
  MINIPAY_API_V3_KEY: 'the APIv3 key, 32 characters, set in 账户中心 → API安全',
};

/**
 * MINIPAY_WECHATPAY_PUBLIC_KEY_FILE and _ID go together; neither: certificate mode. `suffix`
 * `_NEXT`: the pair of the key that replaces it.
 */
function publicKeyConfig(
  get: (name: string) => string | undefined,
  problems: string[],
  suffix = '',
): { id: string; pem: string } | undefined {
  const idName = `MINIPAY_WECHATPAY_PUBLIC_KEY${suffix}_ID`;
  const fileName = `MINIPAY_WECHATPAY_PUBLIC_KEY${suffix}_FILE`;
  const id = get(idName);
  const file = get(fileName);
  if (id === undefined && file === undefined) return undefined;
  if (id === undefined || file === undefined) {
    const [given, missing] = id === undefined ? [fileName, idName] : [idName, fileName];
    problems.push(
      `${given} is set without ${missing}: they go together (the PEM and its PUB_KEY_ID_… from 账户中心 → API安全 → 微信支付公钥); set both, or neither${suffix ? '' : ' for platform certificate mode'}`,
    );
    return undefined;
  }
  const pem = readPem(fileName, get, problems);
  if (pem === undefined) return undefined;
  const ok = check(idName, problems, () => publicKeyVerifier({ keyId: id, publicKey: pem }));
  return ok ? { id, pem } : undefined;
}

function readPem(
  name: string,
  get: (name: string) => string | undefined,
  problems: string[],
): string | undefined {
  const file = get(name);
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    problems.push(`${name}: cannot read ${file} (${code})`);
    return undefined;
  }
}

/** Runs a protocol-layer check; its message, prefixed with the variable, becomes a problem. */
function check<T>(name: string, problems: string[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    problems.push(`${name}: ${(err as Error).message}`);
    return undefined;
  }
}
