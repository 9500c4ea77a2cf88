/**
 * Platform certificates (平台证书, docs/wechat-rules.md): the verification mode of merchants from before WeChat Pay public keys. `GET /v3/certificates`
 * lists them, each encrypted with the APIv3 key; during a rotation the list holds the old and
 * the new one, and WeChat signs with the one `Wechatpay-Serial` names.
 *
 * - `CertificateSource`: where the certificates are kept: `MemoryCertificateSource` here, the
 *   shared store in the app, so that every instance uses the ones one of them downloaded.
 * - `CertificateVerifier`: the `Verifier` of this mode, with the refresh policy: a refresh
 *   when the last is older than `refreshIntervalMs` (in the background: verification goes on
 *   with the certificates at hand), and one when a message names an unknown serial, at most
 *   once per `unknownSerialGapMs` (an unauthenticated message must not make it download at
 *   will). A certificate verifies only within its validity (give or take `clockSkewMs`).
 * - `downloadCertificates`: the download, each certificate decrypted (the AEAD tag proves the
 *   APIv3 key's holder, i.e. WeChat, made it) and the answer's signature then verified with
 *   one of them (as wechatpay-java does), or with WeChat's public key in `both` mode.
 */
import type { X509Certificate } from 'node:crypto';
import { type ApiV3Key, decryptResource, encryptResource } from './aead.js';
import type { WechatPayV3Client } from './client.js';
import { invalid } from './errors.js';
import { Fields, formatRfc3339, parseJsonObject } from './fields.js';
import { loadCertificate, normalizeSerial } from './keys.js';
import {
  badSignature,
  rsaVerify,
  unknownSerial,
  type Verification,
  type Verifier,
  verifySignedMessage,
} from './verify.js';

/** One platform certificate as listed by `/v3/certificates`, decrypted. */
export interface PlatformCertificate {
  serialNo: string;
  /** The certificate, PEM. */
  pem: string;
  effectiveTime: Date;
  expireTime: Date;
}

/** Where platform certificates are kept (the app backs it with its shared store). */
export interface CertificateSource {
  /** The certificates kept now (possibly none, possibly stale). */
  current(): Promise<readonly PlatformCertificate[]>;
  /**
   * Fresh certificates: downloads them from WeChat and keeps them in place of the old list. A
   * shared source may return what another instance downloaded moments ago instead; for an
   * `unknown_serial` refresh, only a list that holds `serial` (normalised).
   */
  refresh(reason?: RefreshReason, serial?: string): Promise<readonly PlatformCertificate[]>;
}

/** Keeps the certificates in memory; `download` fetches them (usually `downloadCertificates`). */
export class MemoryCertificateSource implements CertificateSource {
  private list: readonly PlatformCertificate[];
  constructor(
    private readonly download: () => Promise<readonly PlatformCertificate[]>,
    initial: readonly PlatformCertificate[] = [],
  ) {
    this.list = initial;
  }

  async current(): Promise<readonly PlatformCertificate[]> {
    return this.list;
  }

  async refresh(): Promise<readonly PlatformCertificate[]> {
    this.list = await this.download();
    return this.list;
  }
}

export type RefreshReason = 'initial' | 'periodic' | 'unknown_serial';

export interface CertificateVerifierOptions {
  /** Refresh when the last refresh is older than this. Default 12 hours. */
  refreshIntervalMs?: number;
  /** At most one refresh for unknown serials in this long. Default 60,000 ms. */
  unknownSerialGapMs?: number;
  /** Validity windows are widened by this much either way. Default 5 minutes. */
  clockSkewMs?: number;
  /** Milliseconds since the epoch; default `Date.now`. */
  now?: () => number;
  /** Each refresh: its reason, the serials it left, or its error (metrics and logs). */
  onRefresh?: (event: { reason: RefreshReason; serials: string[]; error?: unknown }) => void;
}

interface Entry {
  serial: string;
  certificate: X509Certificate;
  from: number;
  to: number;
}

/** The `Verifier` of platform-certificate mode (see the top of this file). */
export class CertificateVerifier implements Verifier {
  private entries = new Map<string, Entry>();
  private loading: Promise<void> | undefined;
  private lastRefresh = Number.NEGATIVE_INFINITY;
  private lastUnknownRefresh = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;
  private readonly refreshIntervalMs: number;
  private readonly unknownSerialGapMs: number;
  private readonly clockSkewMs: number;
  private readonly now: () => number;

  constructor(
    private readonly source: CertificateSource,
    private readonly options: CertificateVerifierOptions = {},
  ) {
    this.refreshIntervalMs = options.refreshIntervalMs ?? 12 * 3600_000;
    this.unknownSerialGapMs = options.unknownSerialGapMs ?? 60_000;
    this.clockSkewMs = options.clockSkewMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** The serials of the certificates it verifies with now. */
  serials(): string[] {
    return [...this.entries.keys()];
  }

  async verify(serial: string, message: Buffer, signature: string): Promise<Verification> {
    this.loading ??= this.load();
    await this.loading;
    if (this.now() - this.lastRefresh >= this.refreshIntervalMs) {
      this.refresh('periodic').catch(reported);
    }
    const wanted = normalizeSerial(serial);
    let entry = this.entries.get(wanted);
    if (!entry) {
      // A refresh already under way may have started before WeChat rotated: when it brings no
      // such serial, this one may still ask (within the gap), so a new key is never refused.
      if (this.inflight) await this.inflight.catch(reported);
      entry = this.entries.get(wanted);
      if (!entry && this.now() - this.lastUnknownRefresh >= this.unknownSerialGapMs) {
        this.lastUnknownRefresh = this.now();
        await this.refresh('unknown_serial', wanted).catch(reported);
        entry = this.entries.get(wanted);
      }
    }
    if (!entry) throw unknownSerial(serial, this.describe());
    const now = this.now();
    if (now < entry.from - this.clockSkewMs || now > entry.to + this.clockSkewMs) {
      throw invalid(
        'CERTIFICATE_NOT_VALID',
        `the platform certificate ${serial} is not valid now (${new Date(entry.from).toISOString()} to ${new Date(entry.to).toISOString()}): not trusted`,
      );
    }
    if (!rsaVerify(entry.certificate.publicKey, message, signature)) throw badSignature(serial);
    return { mode: 'certificate', serial: entry.serial };
  }

  /** Downloads the certificates now (concurrent calls share one download). */
  refresh(reason: RefreshReason = 'periodic', serial?: string): Promise<void> {
    this.inflight ??= (async () => {
      try {
        this.lastRefresh = this.now();
        this.install(await this.source.refresh(reason, serial));
        this.options.onRefresh?.({ reason, serials: this.serials() });
      } catch (err) {
        this.options.onRefresh?.({ reason, serials: this.serials(), error: err });
        throw err;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** The kept certificates, downloading them when none are kept (a failure is retried). */
  private async load(): Promise<void> {
    try {
      const kept = await this.source.current();
      // What is kept may be old: the first verification refreshes it in the background.
      if (kept.length > 0) this.install(kept);
      else await this.refresh('initial');
    } catch (err) {
      this.loading = undefined;
      throw err;
    }
  }

  private install(list: readonly PlatformCertificate[]): void {
    const entries = new Map<string, Entry>();
    for (const c of list) {
      const certificate = loadCertificate(c.pem, `platform certificate ${c.serialNo}`);
      const serial = normalizeSerial(certificate.serialNumber);
      if (serial !== normalizeSerial(c.serialNo)) {
        throw invalid('MALFORMED', `platform certificate ${c.serialNo} has serial ${serial}`);
      }
      const from = Math.max(Date.parse(certificate.validFrom), c.effectiveTime.getTime());
      const to = Math.min(Date.parse(certificate.validTo), c.expireTime.getTime());
      entries.set(serial, { serial, certificate, from, to });
    }
    this.entries = entries;
  }

  private describe(): string {
    const serials = this.serials();
    return serials.length
      ? `platform certificates ${serials.join(', ')}`
      : 'no platform certificate';
  }
}

/** A refresh failure is reported through `onRefresh`; verification goes on without it. */
const reported = () => undefined;

const CERTIFICATES_PATH = '/v3/certificates';

/**
 * `GET /v3/certificates`: the platform certificates, decrypted with the APIv3 key and checked;
 * the answer verified with one of them, or with `fallback` (WeChat's public key, in `both` mode)
 * when it names another key.
 */
export async function downloadCertificates(
  client: WechatPayV3Client,
  apiV3Key: ApiV3Key,
  options: { fallback?: Verifier } = {},
): Promise<PlatformCertificate[]> {
  const what = `GET ${CERTIFICATES_PATH}`;
  let list: PlatformCertificate[] = [];
  const answer = await client.request({
    method: 'GET',
    path: CERTIFICATES_PATH,
    // An error answer is checked with the public key in both mode; in certificate mode there is
    // no key yet (and verifying through the certificate verifier would wait on itself).
    verifyError: options.fallback
      ? (message) =>
          verifySignedMessage(message, { verifier: options.fallback!, now: client.now, what })
      : 'unverifiable',
    verify: async (message) => {
      list = readCertificates(parseJsonObject(message.body, `${what} answer`), apiV3Key);
      return verifySignedMessage(message, {
        verifier: listVerifier(list, options.fallback),
        now: client.now,
        what: `the ${what} answer`,
      });
    },
  });
  if (answer.status !== 200) throw invalid('MALFORMED_RESPONSE', `${what}: HTTP ${answer.status}`);
  return list;
}

/** Verifies with the certificates of `list`, or with `fallback` for a serial not in it. */
function listVerifier(
  list: readonly PlatformCertificate[],
  fallback: Verifier | undefined,
): Verifier {
  return {
    async verify(serial, message, signature) {
      const wanted = normalizeSerial(serial);
      const listed = list.find((c) => normalizeSerial(c.serialNo) === wanted);
      if (!listed) {
        if (fallback) return fallback.verify(serial, message, signature);
        throw unknownSerial(serial, `the certificates ${list.map((c) => c.serialNo).join(', ')}`);
      }
      const key = loadCertificate(listed.pem, `platform certificate ${serial}`).publicKey;
      if (!rsaVerify(key, message, signature)) throw badSignature(serial);
      return { mode: 'certificate', serial: wanted };
    },
  };
}

/** The `data` of a `/v3/certificates` answer, decrypted. */
export function readCertificates(
  json: Readonly<Record<string, unknown>>,
  apiV3Key: ApiV3Key,
): PlatformCertificate[] {
  const data = json.data;
  if (!Array.isArray(data) || data.length === 0) {
    throw invalid('MALFORMED', '/v3/certificates lists no certificate');
  }
  return data.map((item, i) => {
    const f = Fields.of(item, `/v3/certificates data[${i}]`);
    const serialNo = f.string('serial_no');
    const pem = decryptResource(
      apiV3Key,
      f.json.encrypt_certificate,
      `certificate ${serialNo}`,
    ).toString('utf8');
    const certificate = loadCertificate(pem, `platform certificate ${serialNo}`);
    if (normalizeSerial(certificate.serialNumber) !== normalizeSerial(serialNo)) {
      throw invalid(
        'MALFORMED',
        `certificate ${serialNo} decrypts to serial ${certificate.serialNumber}`,
      );
    }
    return {
      serialNo,
      pem,
      effectiveTime: f.time('effective_time'),
      expireTime: f.time('expire_time'),
    };
  });
}

/** The body of a `/v3/certificates` answer, as WeChat writes it (for simulators). */
export function certificatesAnswer(
  certificates: readonly PlatformCertificate[],
  apiV3Key: ApiV3Key,
): { data: unknown[] } {
  return {
    data: certificates.map((c) => ({
      serial_no: c.serialNo,
      effective_time: formatRfc3339(c.effectiveTime),
      expire_time: formatRfc3339(c.expireTime),
      encrypt_certificate: encryptResource(apiV3Key, c.pem, { associatedData: 'certificate' }),
    })),
  };
}
