/**
 * Platform certificates kept in the store (`wechatpay_certificates`), so that every instance
 * verifies with the ones any of them downloaded (certificate mode, docs/wechatpay.md).
 *
 * `refresh` (asked for by the `CertificateVerifier`: at start, every 12 hours, and on an
 * unknown serial at most once a minute per instance) uses what is stored instead of
 * downloading when another instance did the work: at start and periodically, a download less
 * than `shareMs` old; on an unknown serial, a stored list that holds that serial. Otherwise it
 * downloads and replaces the stored list (WeChat's list holds the old and the new certificate
 * while it rotates). A download for an unknown serial also needs the shared slot
 * (`wechatpay_certificate_downloads`, one conditional UPDATE): at most one per
 * `unknownSerialGapMs` across all instances, however many forged serials arrive; without it the
 * stored list is the answer. So a rotation costs one download, and an attack one a minute.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.js';
import {
  type CertificateSource,
  normalizeSerial,
  type PlatformCertificate,
  type RefreshReason,
} from '../../wechatpay/v3/index.js';

export interface StoreCertificateSourceOptions {
  /** Another instance's download this recent is used instead of downloading. Default 60 s. */
  shareMs?: number;
  /** At most one download for an unknown serial this often, across instances. Default 60 s. */
  unknownSerialGapMs?: number;
  /** How long to wait for the download of the instance holding the slot. Default 10 s. */
  waitMs?: number;
  now?: () => number;
}

const SLOT = 'unknown_serial';

export class StoreCertificateSource implements CertificateSource {
  private readonly shareMs: number;
  private readonly gapMs: number;
  private readonly waitMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly download: () => Promise<readonly PlatformCertificate[]>,
    options: StoreCertificateSourceOptions = {},
  ) {
    this.shareMs = options.shareMs ?? 60_000;
    this.gapMs = options.unknownSerialGapMs ?? 60_000;
    this.waitMs = options.waitMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  async current(): Promise<readonly PlatformCertificate[]> {
    const rows = await this.db.selectFrom('wechatpay_certificates').selectAll().execute();
    return rows.map((r) => ({
      serialNo: r.serial_no,
      pem: r.pem,
      effectiveTime: new Date(r.effective_time),
      expireTime: new Date(r.expire_time),
    }));
  }

  async refresh(reason?: RefreshReason, serial?: string): Promise<readonly PlatformCertificate[]> {
    if (reason === 'unknown_serial') {
      const stored = await this.current();
      if (serial && stored.some((c) => normalizeSerial(c.serialNo) === serial)) return stored;
      if (!(await this.takeDownloadSlot())) return this.othersDownload(serial);
    } else {
      const newest = await this.db
        .selectFrom('wechatpay_certificates')
        .select((eb) => eb.fn.max('downloaded_at').as('at'))
        .executeTakeFirst();
      const at = newest?.at;
      if (at && this.now() - Date.parse(at) < this.shareMs) return this.current();
    }
    return this.downloadAndStore();
  }

  /**
   * The list once the instance holding the slot has stored its download (at most `waitMs`):
   * during a rotation every instance sees the new serial at once, and one downloads for all.
   */
  private async othersDownload(serial?: string): Promise<readonly PlatformCertificate[]> {
    const deadline = performance.now() + this.waitMs;
    for (;;) {
      const stored = await this.current();
      if (serial && stored.some((c) => normalizeSerial(c.serialNo) === serial)) return stored;
      const [slot, newest] = await Promise.all([
        this.db
          .selectFrom('wechatpay_certificate_downloads')
          .select('last_at')
          .where('id', '=', SLOT)
          .executeTakeFirst(),
        this.db
          .selectFrom('wechatpay_certificates')
          .select((eb) => eb.fn.max('downloaded_at').as('at'))
          .executeTakeFirst(),
      ]);
      // Read again: the download may have landed after `stored` was read.
      if (newest?.at && slot && newest.at >= slot.last_at) return this.current();
      if (performance.now() >= deadline) return stored;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The shared slot of unknown-serial downloads, if no instance took it in the last gap. */
  private async takeDownloadSlot(): Promise<boolean> {
    const now = this.now();
    await this.db
      .insertInto('wechatpay_certificate_downloads')
      .values({ id: SLOT, last_at: new Date(0).toISOString() })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const taken = await this.db
      .updateTable('wechatpay_certificate_downloads')
      .set({ last_at: new Date(now).toISOString() })
      .where('id', '=', SLOT)
      .where('last_at', '<=', new Date(now - this.gapMs).toISOString())
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) === 1;
  }

  private async downloadAndStore(): Promise<readonly PlatformCertificate[]> {
    const list = await this.download();
    const downloadedAt = new Date(this.now()).toISOString();
    const serials = list.map((c) => c.serialNo);
    // Upserted, not deleted and inserted: two instances may store the same download at once.
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('wechatpay_certificates')
        .where('serial_no', 'not in', serials)
        .execute();
      for (const c of list) {
        const row = {
          pem: c.pem,
          effective_time: c.effectiveTime.toISOString(),
          expire_time: c.expireTime.toISOString(),
          downloaded_at: downloadedAt,
        };
        await trx
          .insertInto('wechatpay_certificates')
          .values({ serial_no: c.serialNo, ...row })
          .onConflict((oc) => oc.column('serial_no').doUpdateSet(row))
          .execute();
      }
    });
    return list;
  }
}
