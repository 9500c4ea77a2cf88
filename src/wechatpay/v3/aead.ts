/**
 * `AEAD_AES_256_GCM` with the APIv3 key (证书和回调报文解密, docs/wechat-rules.md): notification
 * resources and platform certificates. Key = the 32 bytes of the APIv3 key, IV = `nonce` (12 characters), AAD =
 * `associated_data` (may be empty), `ciphertext` = base64 of ciphertext ‖ 16-byte tag.
 *
 * The tag is checked (`final()`): a decipher that only calls `update()` returns altered
 * plaintext for altered ciphertext (a peer SDK does; BENCHMARKS.md). Official vector in
 * docs/wechat-rules.md and test/wechatpay/v3/aead.test.ts.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomInt,
} from 'node:crypto';
import { configError, invalid } from './errors.js';

export const AEAD_ALGORITHM = 'AEAD_AES_256_GCM';
const TAG_BYTES = 16;
const NONCE_BYTES = 12;

/** The APIv3 key, checked and loaded once. */
export type ApiV3Key = KeyObject;

/** Loads the APIv3 key: exactly 32 bytes (the merchant platform's 32 characters). */
export function loadApiV3Key(key: string | Buffer | ApiV3Key): ApiV3Key {
  if (typeof key === 'object' && !Buffer.isBuffer(key)) {
    if (key.type !== 'secret' || key.symmetricKeySize !== 32) {
      throw configError('the APIv3 key must be a 32-byte secret key');
    }
    return key;
  }
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (typeof key === 'string' && key.trim() !== key) {
    throw configError('the APIv3 key has leading or trailing whitespace (a copied line break?)');
  }
  if (bytes.length !== 32) {
    const chars =
      typeof key === 'string' && key.length !== bytes.length ? ` (${key.length} characters)` : '';
    throw configError(
      `the APIv3 key is ${bytes.length} bytes${chars}; it must be exactly 32: copy it again from the merchant platform (账户中心 → API安全 → APIv3密钥), it is not the APIv2 key`,
    );
  }
  return createSecretKey(bytes);
}

/** An encrypted resource as WeChat sends it (notification `resource`, `encrypt_certificate`). */
export interface EncryptedResource {
  algorithm: string;
  ciphertext: string;
  nonce: string;
  associated_data?: string;
}

/**
 * Decrypts and authenticates `resource`; throws `invalid` when it does not: altered
 * ciphertext, tag, nonce or associated data, or another APIv3 key.
 */
export function decryptResource(key: ApiV3Key, resource: unknown, what: string): Buffer {
  const r = resource as Partial<Record<keyof EncryptedResource, unknown>> | null;
  if (typeof r !== 'object' || r === null) throw malformed(what, 'is not an object');
  if (r.algorithm !== AEAD_ALGORITHM) {
    throw malformed(what, `has algorithm ${JSON.stringify(r.algorithm)}, not ${AEAD_ALGORITHM}`);
  }
  const { ciphertext, nonce } = r;
  const aad = r.associated_data ?? '';
  if (typeof nonce !== 'string' || Buffer.byteLength(nonce) !== NONCE_BYTES) {
    throw malformed(what, `nonce must be ${NONCE_BYTES} bytes`);
  }
  if (typeof aad !== 'string') throw malformed(what, 'associated_data must be a string');
  const data = typeof ciphertext === 'string' ? base64(ciphertext) : undefined;
  if (!data) throw malformed(what, 'ciphertext is not base64');
  if (data.length < TAG_BYTES) throw malformed(what, 'ciphertext is shorter than its tag');
  const tagAt = data.length - TAG_BYTES;
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyBytes(key), nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(data.subarray(tagAt));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    const head = decipher.update(data.subarray(0, tagAt));
    const tail = decipher.final();
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch (err) {
    throw invalid(
      'BAD_CIPHERTEXT',
      `${what} does not decrypt with the APIv3 key: it was altered (ciphertext, tag, nonce or associated_data), or the APIv3 key is not this merchant's`,
      { cause: err },
    );
  }
}

/**
 * Strict base64: the decoder skips characters outside the alphabet, so any such character
 * (and any misplaced padding) shows as a decoded length other than the text's.
 */
function base64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0) return undefined;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === (text.length / 4) * 3 - padding ? bytes : undefined;
}

const exported = new WeakMap<ApiV3Key, Buffer>();

/** The key's bytes, exported once: a cipher made from bytes costs half one made from a KeyObject. */
function keyBytes(key: ApiV3Key): Buffer {
  let bytes = exported.get(key);
  if (!bytes) {
    bytes = key.export();
    exported.set(key, bytes);
  }
  return bytes;
}

/** Encrypts `plaintext` as WeChat does (for simulators and tests). */
export function encryptResource(
  key: ApiV3Key,
  plaintext: string | Buffer,
  options: { associatedData?: string; nonce?: string } = {},
): EncryptedResource {
  const nonce = options.nonce ?? gcmNonce();
  const associatedData = options.associatedData ?? '';
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const data = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return {
    algorithm: AEAD_ALGORITHM,
    ciphertext: data.toString('base64'),
    nonce,
    associated_data: associatedData,
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 12 random letters and digits, as WeChat's nonces. */
function gcmNonce(): string {
  let out = '';
  for (let i = 0; i < NONCE_BYTES; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

function malformed(what: string, problem: string) {
  return invalid('MALFORMED', `${what} ${problem}`);
}
