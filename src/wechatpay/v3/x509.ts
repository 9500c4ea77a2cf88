/**
 * Issues the RSA certificates a WeChat simulator needs: platform certificates (what
 * `/v3/certificates` serves, and rotates) and merchant API certificates for tests. Node can
 * parse and verify X.509 but not write it, so this writes the few DER shapes a v3 certificate
 * has (RFC 5280: version 3, serial, sha256WithRSAEncryption, names of printable/UTF-8 strings,
 * validity, the key, basic constraints) and signs them with the issuer's key. What it writes is
 * read back by `node:crypto`'s `X509Certificate`, which checks the signature
 * (test/wechatpay/v3/keys.test.ts).
 */
import { createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto';

export interface IssueCertificateOptions {
  /** The key the certificate is for (its public half goes in the certificate). */
  subjectKey: KeyObject;
  /** Signs the certificate; the subject's own private key for a self-signed one. */
  issuerKey: KeyObject;
  /** Common name (CN) of the subject; the issuer's is `issuerName` (default: the same). */
  commonName: string;
  issuerName?: string;
  organization?: string;
  /** Upper-case hex, at most 40 digits; default 40 random ones (WeChat's serials are 40). */
  serialNo?: string;
  notBefore: Date;
  notAfter: Date;
}

/** A PEM certificate signed with SHA256-RSA by `issuerKey`. */
export function issueCertificate(options: IssueCertificateOptions): string {
  const serialNo = options.serialNo ?? randomSerial();
  if (!/^[0-9A-F]{1,40}$/.test(serialNo))
    throw new TypeError('serialNo must be 1 to 40 upper-case hex digits');
  const algorithm = seq(oid('1.2.840.113549.1.1.11'), tlv(0x05, Buffer.alloc(0)));
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))),
    integer(Buffer.from(serialNo.padStart(serialNo.length + (serialNo.length % 2), '0'), 'hex')),
    algorithm,
    name(options.issuerName ?? options.commonName, options.organization),
    seq(time(options.notBefore), time(options.notAfter)),
    name(options.commonName, options.organization),
    createPublicKey(options.subjectKey).export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(seq(oid('2.5.29.19'), tlv(0x04, seq())))),
  );
  const signature = sign('sha256', tbs, options.issuerKey);
  const der = seq(tbs, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

function randomSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = (bytes[0]! & 0x7f) | 0x10; // positive, and 40 digits without a leading zero
  return bytes.toString('hex').toUpperCase();
}

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const digits = Buffer.from(
      n.toString(16).padStart(n.toString(16).length + (n.toString(16).length % 2), '0'),
      'hex',
    );
    length = Buffer.concat([Buffer.from([0x80 | digits.length]), digits]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

/** A non-negative INTEGER from big-endian bytes. */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = bytes.subarray(start);
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

function name(commonName: string, organization?: string): Buffer {
  const rdn = (type: string, value: string) =>
    tlv(0x31, seq(oid(type), tlv(0x0c, Buffer.from(value, 'utf8'))));
  return seq(...(organization ? [rdn('2.5.4.10', organization)] : []), rdn('2.5.4.3', commonName));
}

/** UTCTime through 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = date.getUTCFullYear();
  return year < 2050 && year >= 1950
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}
