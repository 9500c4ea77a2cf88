/**
 * Loading the RSA material of APIv3, with errors that say what was given instead of what was
 * expected: the merchant private key (`apiclient_key.pem`, PKCS#8 or PKCS#1), the merchant
 * API certificate (`apiclient_cert.pem`) and its serial, WeChat Pay's public key (the
 * `PUB_KEY_ID_…` PEM) and platform certificates. `WECHATPAY2-SHA256-RSA2048` is RSA with
 * 2048-bit keys: any other kind or size is refused here rather than by WeChat later.
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { configError } from './errors.js';

export const RSA_BITS = 2048;

/** A certificate serial (hex, as WeChat writes it: 40 upper-case digits) or a public key id. */
const HEX_SERIAL = /^[0-9A-Fa-f]{1,40}$/;
export const PUBLIC_KEY_ID = /^PUB_KEY_ID_[0-9A-Za-z_]{1,64}$/;

type Pem = string | Buffer;

/** The labels of the PEM blocks in `pem`, e.g. `['CERTIFICATE']`. */
function pemLabels(text: string): string[] {
  return [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]!);
}

function pemText(pem: Pem, what: string): string {
  const text = (typeof pem === 'string' ? pem : pem.toString('utf8')).trim();
  if (!text) throw configError(`${what} is empty`);
  if (!text.includes('-----BEGIN ')) {
    const escaped = text.includes('\\n')
      ? ' (it holds literal \\n: put real line breaks back)'
      : '';
    throw configError(
      `${what} is not PEM: give the whole file, from its -----BEGIN line to its -----END line${escaped}`,
    );
  }
  return text;
}

function checkRsa2048(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') {
    throw configError(
      `${what} is an ${key.asymmetricKeyType ?? 'unknown'} key; WECHATPAY2-SHA256-RSA2048 needs RSA`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== RSA_BITS) {
    throw configError(
      `${what} is RSA-${bits}; WeChat Pay APIv3 keys are RSA-${RSA_BITS} (is this the right file?)`,
    );
  }
  return key;
}

/**
 * The merchant private key (`apiclient_key.pem`): PKCS#8 (`BEGIN PRIVATE KEY`, what WeChat's
 * tool writes) or PKCS#1 (`BEGIN RSA PRIVATE KEY`), RSA-2048, not encrypted.
 */
export function loadPrivateKey(
  pem: Pem,
  what = 'the merchant private key (apiclient_key.pem)',
): KeyObject {
  const text = pemText(pem, what);
  const labels = pemLabels(text);
  if (labels.includes('CERTIFICATE')) {
    throw configError(
      `${what} is a certificate (apiclient_cert.pem?), not a private key: give apiclient_key.pem`,
    );
  }
  if (labels.includes('ENCRYPTED PRIVATE KEY')) {
    throw configError(
      `${what} is encrypted: export it without a passphrase (openssl pkcs8 -topk8 -nocrypt -in key.pem)`,
    );
  }
  if (labels.some((l) => l.endsWith('PUBLIC KEY'))) {
    throw configError(`${what} is a public key; signing needs the private key (apiclient_key.pem)`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(text);
  } catch (err) {
    throw configError(`${what} cannot be read: ${(err as Error).message}`, err);
  }
  return checkRsa2048(key, what);
}

/**
 * A public key to verify with: WeChat Pay's public key (`BEGIN PUBLIC KEY`, SPKI), PKCS#1
 * (`BEGIN RSA PUBLIC KEY`), or the key of a certificate (`BEGIN CERTIFICATE`). A private key
 * is refused: whatever only verifies must never be handed one.
 */
export function loadPublicKey(pem: Pem, what = 'the public key'): KeyObject {
  const text = pemText(pem, what);
  const labels = pemLabels(text);
  if (labels.some((l) => l.endsWith('PRIVATE KEY'))) {
    throw configError(
      `${what} is a private key; give the public key or the certificate (a private key never belongs here)`,
    );
  }
  if (labels.includes('CERTIFICATE')) return loadCertificate(text, what).publicKey;
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (err) {
    throw configError(`${what} cannot be read: ${(err as Error).message}`, err);
  }
  return checkRsa2048(key, what);
}

/** A PEM certificate with an RSA-2048 key (a merchant API or a WeChat Pay platform certificate). */
export function loadCertificate(pem: Pem, what = 'the certificate'): X509Certificate {
  const text = pemText(pem, what);
  const labels = pemLabels(text);
  if (!labels.includes('CERTIFICATE')) {
    throw configError(`${what} holds ${labels.join(', ')}, not a certificate (BEGIN CERTIFICATE)`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(text);
  } catch (err) {
    throw configError(`${what} cannot be read: ${(err as Error).message}`, err);
  }
  checkRsa2048(cert.publicKey, what);
  return cert;
}

/** A certificate serial as WeChat writes it: upper-case hex without leading zeros. */
export function normalizeSerial(serial: string): string {
  return serial.toUpperCase().replace(/^0+(?=.)/, '');
}

/** Whether `value` looks like a certificate serial (hex) or a WeChat Pay public key id. */
export function checkSerial(value: string, what: string): string {
  if (PUBLIC_KEY_ID.test(value)) return value;
  if (!HEX_SERIAL.test(value)) {
    throw configError(
      `${what} must be a certificate serial (hex, e.g. 3775B6A45ACD588826D15E583A95F5DD********) or a PUB_KEY_ID_…; got ${JSON.stringify(value.slice(0, 48))}`,
    );
  }
  return normalizeSerial(value);
}

/** Whether two public keys are the same key. */
export function sameKey(a: KeyObject, b: KeyObject): boolean {
  const der = (k: KeyObject) =>
    (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
  return der(a).equals(der(b));
}

/**
 * The merchant key, certificate and serial belong together: the certificate's key is the
 * private key's, and its serial is the serial given. WeChat would refuse every request
 * otherwise (401 SIGN_ERROR), so this says which piece is wrong before any request.
 */
export function checkMerchantCertificate(
  privateKey: KeyObject,
  certificate: X509Certificate,
  serialNo: string,
): void {
  if (!sameKey(privateKey, certificate.publicKey)) {
    throw configError(
      `the merchant private key does not belong to the merchant certificate (serial ${certificate.serialNumber}): they come from different downloads`,
    );
  }
  if (normalizeSerial(certificate.serialNumber) !== normalizeSerial(serialNo)) {
    throw configError(
      `the merchant certificate serial is ${certificate.serialNumber}, not ${serialNo}: give the certificate's serial (openssl x509 -noout -serial -in apiclient_cert.pem)`,
    );
  }
}
