/**
 * Platform certificates kept in the store (`wechatpay_certificates`), so that every instance
 * verifies with the ones any of them downloaded (certificate mode, docs/wechatpay.md).
 *
 * `refresh` (asked for by the `CertificateVerifier`: at start, every 12 hours, and on an
 * unknown serial at most once a minute per instance) first looks at the newest stored
 * download: less than `shareMs` old, it is used instead of downloading, except that on an
 * unknown serial it must also be newer than the list this instance holds (which lacked that
 * serial). Otherwise it downloads and replaces the stored list (WeChat's list holds the old and
 * the new certificate while it rotates). So N instances download at most N times a minute
 * under a flood of unknown serials, and once between them otherwise.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import type {
  CertificateSource,
  PlatformCertificate,
  RefreshReason,
} from '../../wechatpay/v3/index.js';

export interface StoreCertificateSourceOptions {
  /** Another instance's download this recent is used instead of downloading. Default 60 s. */
  shareMs?: number;
  now?: () => number;
}

export class StoreCertificateSource implements CertificateSource {
  /** The newest `downloaded_at` this instance has used. */
  private seen = '';
  private readonly shareMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly download: () => Promise<readonly PlatformCertificate[]>,
    options: StoreCertificateSourceOptions = {},
  ) {
    this.shareMs = options.shareMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async current(): Promise<readonly PlatformCertificate[]> {
    const rows = await this.db.selectFrom('wechatpay_certificates').selectAll().execute();
    for (const r of rows) if (r.downloaded_at > this.seen) this.seen = r.downloaded_at;
    return rows.map((r) => ({
      serialNo: r.serial_no,
      pem: r.pem,
      effectiveTime: new Date(r.effective_time),
      expireTime: new Date(r.expire_time),
    }));
  }

  async refresh(reason?: RefreshReason): Promise<readonly PlatformCertificate[]> {
    const newest = await this.db
      .selectFrom('wechatpay_certificates')
      .select((eb) => eb.fn.max('downloaded_at').as('at'))
      .executeTakeFirst();
    const at = newest?.at ?? '';
    const recent = at !== '' && this.now() - Date.parse(at) < this.shareMs;
    const usable = reason === 'unknown_serial' ? recent && at > this.seen : recent;
    if (usable) return this.current();
    const list = await this.download();
    const downloadedAt = new Date(this.now()).toISOString();
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('wechatpay_certificates').execute();
      await trx
        .insertInto('wechatpay_certificates')
        .values(
          list.map((c) => ({
            serial_no: c.serialNo,
            pem: c.pem,
            effective_time: c.effectiveTime.toISOString(),
            expire_time: c.expireTime.toISOString(),
            downloaded_at: downloadedAt,
          })),
        )
        .execute();
    });
    this.seen = downloadedAt;
    return list;
  }
}
