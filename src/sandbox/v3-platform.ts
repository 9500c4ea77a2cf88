/**
 * The sandbox's APIv3 key material: WeChat's side (a WeChat Pay public key, platform
 * certificates that rotate, the mode it verifies merchants in) and the merchant's public key,
 * which checks every request signature and `wx.requestPayment` paySign.
 *
 * - Modes (docs/sandbox.md, "APIv3"): `public_key` signs with the `PUB_KEY_ID_…` key and
 *   `/v3/certificates` has nothing to list; `certificate` signs with the newest platform
 *   certificate; `both` (a merchant switching over) signs each message with one or the other,
 *   drawn from the seeded fault stream, so the merchant must choose by `Wechatpay-Serial`.
 * - A rotation adds a new certificate and signs with it from then on; the previous one stays
 *   listed (WeChat overlaps them), older ones are dropped. In public_key mode it replaces the
 *   public key with the next one, shown ahead (`nextPublicKey`, as the merchant portal shows a
 *   new key before WeChat signs with it): a merchant that configured it loses nothing.
 * - Without the merchant's public key it generates demo merchant material (key, certificate,
 *   serial), served at `GET /sandbox/v1/v3/merchant`. All of it is kept in the state, so a
 *   sandbox with a state file keeps its keys across restarts.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import {
  type ApiV3Key,
  checkSerial,
  createRsaSigner,
  generateMerchantIdentity,
  generatePlatformCertificate,
  generatePublicKeyIdentity,
  loadApiV3Key,
  loadPublicKey,
  normalizeSerial,
  type PlatformCertificate,
  type Signer,
} from '../wechatpay/v3/index.js';
import type { Credentials } from './credentials.js';
import type { SeededRandom } from './random.js';
import type { SandboxState } from './state/sandbox-state.js';

export const PLATFORM_MODES = ['public_key', 'certificate', 'both'] as const;
export type PlatformMode = (typeof PLATFORM_MODES)[number];

/** What a merchant gives the sandbox about itself (all optional: demo material otherwise). */
export interface V3MerchantOptions {
  /** The merchant API certificate serial (`serial_no` of its requests). */
  mchSerial?: string;
  /** The merchant API certificate or public key, PEM. */
  mchPublicKey?: string | Buffer;
  /** Default `public_key`, the mode of merchants since late 2024. */
  platformMode?: PlatformMode;
}

/** Demo merchant material (generated when the merchant gave no public key). */
export interface DemoMerchant {
  serialNo: string;
  privateKeyPem: string;
  certificatePem: string;
}

/** What `GET /sandbox/v1/v3/platform` shows: the public half of WeChat's material. */
export interface PlatformView {
  mode: PlatformMode;
  publicKeyId: string;
  publicKeyPem: string;
  /** The public key a rotation switches to (public_key mode): configure it ahead. */
  nextPublicKey: { publicKeyId: string; publicKeyPem: string };
  certificates: { serialNo: string; pem: string; effectiveTime: string; expireTime: string }[];
}

interface KeptCertificate {
  serialNo: string;
  pem: string;
  effectiveTime: number;
  expireTime: number;
  privateKeyPem: string;
}

/** The state's copy (private keys included: sandbox material only). */
interface KeptPublicKey {
  keyId: string;
  publicKeyPem: string;
  privateKeyPem: string;
}

interface Kept {
  publicKey: KeptPublicKey;
  /** Absent in a state file written before public keys rotated: made on load. */
  nextPublicKey?: KeptPublicKey;
  certificates: KeptCertificate[];
  demoMerchant?: DemoMerchant;
}

const META_KEY = 'v3Platform';
/** Platform certificates are issued for five years, as WeChat's are. */
const CERTIFICATE_YEARS = 5;
const YEAR_MS = 365 * 86_400_000;

export class V3Platform {
  private signers = new Map<string, Signer>();

  private constructor(
    private readonly state: SandboxState,
    private kept: Kept,
    readonly mode: PlatformMode,
    readonly apiV3Key: ApiV3Key,
    readonly merchantSerial: string,
    readonly merchantKey: KeyObject,
  ) {
    this.signers.set(
      kept.publicKey.keyId,
      signerOf(kept.publicKey.privateKeyPem, kept.publicKey.keyId),
    );
    for (const c of kept.certificates)
      this.signers.set(c.serialNo, signerOf(c.privateKeyPem, c.serialNo));
  }

  /** The material kept in `state`, or fresh material (kept there). */
  static async load(
    state: SandboxState,
    credentials: Credentials,
    options: V3MerchantOptions,
    now: number,
  ): Promise<V3Platform> {
    const mode = options.platformMode ?? 'public_key';
    if (!PLATFORM_MODES.includes(mode)) {
      throw new TypeError(`platformMode must be one of ${PLATFORM_MODES.join(', ')}`);
    }
    const apiV3Key = loadApiV3Key(credentials.apiV3Key);
    if ((options.mchSerial === undefined) !== (options.mchPublicKey === undefined)) {
      throw new TypeError('mchSerial and mchPublicKey go together (the serial names that key)');
    }
    const stored = state.getMeta(META_KEY);
    const kept: Kept = stored ? (JSON.parse(stored) as Kept) : await generated(now);
    kept.nextPublicKey ??= await publicKeyMaterial();
    let serial: string;
    let key: KeyObject;
    if (options.mchPublicKey !== undefined) {
      serial = checkSerial(options.mchSerial!, 'mchSerial');
      key = loadPublicKey(options.mchPublicKey, 'the merchant public key (--mch-public-key)');
      checkCertificateSerial(options.mchPublicKey, serial);
    } else {
      kept.demoMerchant ??= await demoMerchant(credentials.mchId);
      serial = normalizeSerial(kept.demoMerchant!.serialNo);
      key = loadPublicKey(kept.demoMerchant!.certificatePem, 'the demo merchant certificate');
    }
    state.setMeta(META_KEY, JSON.stringify(kept));
    return new V3Platform(state, kept, mode, apiV3Key, serial, key);
  }

  /** The demo merchant material, when the merchant gave no key of its own. */
  get demoMerchant(): DemoMerchant | undefined {
    return this.kept.demoMerchant &&
      this.merchantSerial === normalizeSerial(this.kept.demoMerchant.serialNo)
      ? this.kept.demoMerchant
      : undefined;
  }

  /** The merchant key of `serial`, if it is the merchant's serial. */
  merchantKeyFor(serial: string): KeyObject | undefined {
    return checkedSerial(serial) === this.merchantSerial ? this.merchantKey : undefined;
  }

  /** The signer of the next answer or notification in this mode. */
  signer(random: SeededRandom): Signer {
    const certificate = this.signers.get(this.newestCertificate().serialNo)!;
    const publicKey = this.signers.get(this.kept.publicKey.keyId)!;
    if (this.mode === 'public_key') return publicKey;
    if (this.mode === 'certificate') return certificate;
    return random.chance('v3:sign-with-certificate', 0.5) ? certificate : publicKey;
  }

  /** What `/v3/certificates` lists: none in public_key mode. */
  certificates(): PlatformCertificate[] {
    if (this.mode === 'public_key') return [];
    return this.kept.certificates.map((c) => ({
      serialNo: c.serialNo,
      pem: c.pem,
      effectiveTime: new Date(c.effectiveTime),
      expireTime: new Date(c.expireTime),
    }));
  }

  view(): PlatformView {
    return {
      mode: this.mode,
      publicKeyId: this.kept.publicKey.keyId,
      publicKeyPem: this.kept.publicKey.publicKeyPem,
      nextPublicKey: {
        publicKeyId: this.kept.nextPublicKey!.keyId,
        publicKeyPem: this.kept.nextPublicKey!.publicKeyPem,
      },
      certificates: this.certificates().map((c) => ({
        serialNo: c.serialNo,
        pem: c.pem,
        effectiveTime: c.effectiveTime.toISOString(),
        expireTime: c.expireTime.toISOString(),
      })),
    };
  }

  /**
   * A new platform certificate signs from now on; the previous one stays listed (and valid) so
   * that merchants verifying with it are not cut off. Public-key mode has nothing to rotate.
   */
  async rotate(now: number): Promise<PlatformView> {
    if (this.mode === 'public_key') return this.replacePublicKey();
    const next = await certificate(now);
    const previous = this.newestCertificate();
    this.kept = { ...this.kept, certificates: [previous, next] };
    this.signers = new Map(
      [...this.signers].filter(([s]) => s === this.kept.publicKey.keyId || s === previous.serialNo),
    );
    this.signers.set(next.serialNo, signerOf(next.privateKeyPem, next.serialNo));
    this.state.setMeta(META_KEY, JSON.stringify(this.kept));
    return this.view();
  }

  /** The next public key signs from now on; a new next one is made (shown ahead). */
  private async replacePublicKey(): Promise<PlatformView> {
    const current = this.kept.nextPublicKey!;
    this.kept = { ...this.kept, publicKey: current, nextPublicKey: await publicKeyMaterial() };
    this.signers.set(current.keyId, signerOf(current.privateKeyPem, current.keyId));
    this.state.setMeta(META_KEY, JSON.stringify(this.kept));
    return this.view();
  }

  private newestCertificate(): KeptCertificate {
    return this.kept.certificates.at(-1)!;
  }
}

/**
 * Fresh material is made once per process and shared by the sandboxes it starts without a
 * state holding some (RSA keys take a while to make: a test suite starts hundreds). Each
 * sandbox keeps its own copy, so a rotation in one does not touch another.
 */
let shared: { kept: Promise<Kept>; merchants: Map<string, Promise<DemoMerchant>> } | undefined;

async function generated(now: number): Promise<Kept> {
  shared ??= { kept: fresh(now), merchants: new Map() };
  return structuredClone(await shared.kept);
}

async function demoMerchant(mchId: string): Promise<DemoMerchant> {
  shared ??= { kept: fresh(Date.now()), merchants: new Map() };
  let made = shared.merchants.get(mchId);
  if (!made) {
    made = generateMerchantIdentity(mchId).then((demo) => ({
      serialNo: demo.serialNo,
      privateKeyPem: demo.privateKeyPem,
      certificatePem: demo.certificatePem,
    }));
    shared.merchants.set(mchId, made);
  }
  return made;
}

async function fresh(now: number): Promise<Kept> {
  const [publicKey, nextPublicKey, cert] = await Promise.all([
    publicKeyMaterial(),
    publicKeyMaterial(),
    certificate(now),
  ]);
  return { publicKey, nextPublicKey, certificates: [cert] };
}

async function publicKeyMaterial(): Promise<KeptPublicKey> {
  const made = await generatePublicKeyIdentity();
  return {
    keyId: made.keyId,
    publicKeyPem: made.publicKeyPem,
    privateKeyPem: made.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

async function certificate(now: number): Promise<KeptCertificate> {
  const issued = await generatePlatformCertificate({
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CERTIFICATE_YEARS * YEAR_MS),
  });
  return {
    serialNo: normalizeSerial(issued.certificate.serialNo),
    pem: issued.certificate.pem,
    effectiveTime: issued.certificate.effectiveTime.getTime(),
    expireTime: issued.certificate.expireTime.getTime(),
    privateKeyPem: issued.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function signerOf(privateKeyPem: string, serialNo: string): Signer {
  return createRsaSigner({ privateKey: createPrivateKey(privateKeyPem), serialNo });
}

/** A serial as sent, normalised; '' when it is not a serial at all. */
function checkedSerial(serial: string): string {
  return /^[0-9A-Fa-f]{1,40}$/.test(serial) ? normalizeSerial(serial) : '';
}

/** A certificate given as the merchant key must carry the serial given with it. */
function checkCertificateSerial(pem: string | Buffer, serial: string): void {
  const text = typeof pem === 'string' ? pem : pem.toString('utf8');
  if (!text.includes('BEGIN CERTIFICATE')) return;
  const actual = normalizeSerial(new X509Certificate(text).serialNumber);
  if (actual !== serial) {
    throw new TypeError(
      `the merchant certificate's serial is ${actual}, not ${serial} (--mch-serial): give the serial of that certificate`,
    );
  }
}
