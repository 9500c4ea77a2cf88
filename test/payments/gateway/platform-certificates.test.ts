/**
 * The platform-certificate store two instances share: a download for an unknown serial takes
 * the shared slot, so forged serials cost one download per interval across instances, and a
 * rotation seen by both at once costs one download whose list both then use. Two store handles
 * on one database play the two instances.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { StoreCertificateSource } from '../../../src/payments/gateway/platform-certificates.js';
import { openStore, type Store } from '../../../src/store/index.js';
import type { PlatformCertificate } from '../../../src/wechatpay/v3/index.js';
import { describeOnStores } from '../../support/stores.js';

const OLD = '1111111111111111111111111111111111111111';
const NEW = '2222222222222222222222222222222222222222';
const FORGED = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const GAP_MS = 60_000;

function certificate(serialNo: string): PlatformCertificate {
  return {
    serialNo,
    pem: `-----BEGIN CERTIFICATE-----\n${serialNo}\n-----END CERTIFICATE-----\n`,
    effectiveTime: new Date('2026-01-01T00:00:00Z'),
    expireTime: new Date('2031-01-01T00:00:00Z'),
  };
}

/** WeChat's `/v3/certificates`, counting downloads; `serials` is what it lists now. */
function wechat(serials: string[]) {
  const w = {
    serials,
    downloads: 0,
    async download(): Promise<PlatformCertificate[]> {
      w.downloads++;
      await new Promise((r) => setTimeout(r, 50));
      return w.serials.map(certificate);
    },
  };
  return w;
}

describeOnStores('platform certificates shared through the store', (stores) => {
  const opened: Store[] = [];
  after(() => Promise.all(opened.map((s) => s.close())));

  /** Two instances on one fresh database, with one clock. */
  async function instances(w: ReturnType<typeof wechat>) {
    const url = await stores.freshUrl();
    const [a, b] = [openStore(url), openStore(url)];
    opened.push(a, b);
    await a.migrate();
    const clock = { now: Date.parse('2026-06-01T00:00:00Z') };
    const source = (s: Store) =>
      new StoreCertificateSource(s.db, () => w.download(), {
        unknownSerialGapMs: GAP_MS,
        now: () => clock.now,
      });
    const sources = [source(a), source(b)] as const;
    await sources[0].refresh('initial');
    return { sources, clock };
  }

  test('forged serials: one download per interval across both instances', async () => {
    const w = wechat([OLD]);
    const { sources, clock } = await instances(w);
    assert.equal(w.downloads, 1);
    const storm = Array.from({ length: 20 }, (_, i) =>
      sources[i % 2]!.refresh('unknown_serial', FORGED),
    );
    const lists = await Promise.all(storm);
    assert.equal(w.downloads, 2, 'one download for the whole storm');
    for (const list of lists)
      assert.deepEqual(
        list.map((c) => c.serialNo),
        [OLD],
      );
    clock.now += GAP_MS - 1;
    await sources[1].refresh('unknown_serial', FORGED);
    assert.equal(w.downloads, 2, 'still within the interval');
    clock.now += 1;
    await sources[1].refresh('unknown_serial', FORGED);
    assert.equal(w.downloads, 3, 'the next interval allows one more');
  });

  test('a rotation both instances see at once: one download, both get the new certificate', async () => {
    const w = wechat([OLD]);
    const { sources, clock } = await instances(w);
    clock.now += GAP_MS;
    w.serials = [OLD, NEW];
    const lists = await Promise.all([
      sources[0].refresh('unknown_serial', NEW),
      sources[1].refresh('unknown_serial', NEW),
      sources[1].refresh('unknown_serial', NEW),
    ]);
    assert.equal(w.downloads, 2, 'the initial download and one for the rotation');
    for (const list of lists) {
      assert.deepEqual(list.map((c) => c.serialNo).sort(), [OLD, NEW]);
    }
  });
});
