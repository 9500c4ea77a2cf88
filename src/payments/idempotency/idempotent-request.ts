/**
 * The Idempotency-Key sequence every keyed POST follows (checkout, refund requests): the key is
 * claimed (in the transaction that creates the resource, or before it), a replay gets the stored
 * answer, an attempt after a transient failure resumes the resource the key holds, success
 * completes the key with the answer, and a failure releases it (kept `retryable` when it made a
 * resource). docs/http-api.md "Idempotency".
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../lib/db.js';
import { DomainError } from '../lib/errors.js';
import type { IdempotencyKeys } from './idempotency-repo.js';

const MAX_KEY_LENGTH = 255;

export function checkKey(key: string | undefined): string {
  if (key === undefined || key === '') {
    throw new DomainError(
      400,
      'IDEMPOTENCY_KEY_REQUIRED',
      'send an Idempotency-Key header (a unique string per purchase, e.g. a UUID) so a retry cannot buy twice',
    );
  }
  if (key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new DomainError(
      400,
      'VALIDATION_FAILED',
      `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters without spaces`,
    );
  }
  return key;
}

export function requestHash(canonical: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** The caller's Idempotency-Key: its scope, the key and the request's hash. */
export interface KeyRef {
  scope: string;
  key: string;
  hash: string;
}

/** Ties a new resource to the key, in the transaction that writes it; false: the key is taken. */
export type KeyLink = (trx: Db, resourceId: string) => Promise<boolean>;

/** What a keyed request does with its resource `R`, whose answer is `B`. */
export interface KeyedWork<R extends { id: string }, B> {
  /**
   * Writes the resource, calling `link` in the transaction that writes it; resolves null
   * (nothing written) when `link` said the key is taken.
   */
  create(link: KeyLink): Promise<R | null>;
  /** The resource a retryable key holds. */
  load(id: string): Promise<R | undefined>;
  /**
   * Takes the resource to its answer. It may complete the key in its own last transaction
   * (`complete(body, trx)`); otherwise the key is completed after it.
   */
  finish(resource: R, complete: (body: B, db: Db) => Promise<void>): Promise<B>;
}

export interface KeyedRequest {
  keys: IdempotencyKeys;
  ref: KeyRef;
  now: Date;
  logger: Logger;
  /**
   * Claim a new key in the transaction that creates the resource (one commit fewer; a refusal
   * there rolls the claim back with it), instead of claiming it first.
   */
  claimInCreate: boolean;
}

/** Runs `work` under the key: 201 with its answer, or the stored answer of a replay. */
export async function idempotent<R extends { id: string }, B>(
  request: KeyedRequest,
  work: KeyedWork<R, B>,
): Promise<{ status: number; body: B }> {
  const { keys, ref, now } = request;
  let resource: R | null | undefined = null;
  if (request.claimInCreate) {
    resource = await work.create((trx, id) =>
      keys.claimNew(trx, ref.scope, ref.key, ref.hash, now, id),
    );
  }
  let resourceId = resource?.id ?? null;
  if (!resource) {
    // The key exists (or is claimed first): a replay, a 409/422 (not ours to release), or ours.
    const claim = await keys.claim(ref.scope, ref.key, ref.hash, now);
    if (claim.kind === 'replay') return { status: claim.status, body: claim.body as B };
    if (claim.kind === 'resume') resourceId = claim.resourceId;
  }
  let completed = false;
  const complete = async (body: B, db: Db) => {
    await keys.complete(ref.scope, ref.key, 201, body, db);
    completed = true;
  };
  try {
    if (!resource && resourceId !== null) resource = await work.load(resourceId);
    resource ??= await work.create(async (trx, id) => {
      await keys.attach(ref.scope, ref.key, id, trx);
      return true;
    });
    resourceId = resource!.id;
    const body = await work.finish(resource!, complete);
    if (!completed) await keys.complete(ref.scope, ref.key, 201, body);
    return { status: 201, body };
  } catch (err) {
    await keys.release(ref.scope, ref.key, resourceId).catch((e: unknown) => {
      request.logger.error({ err: e }, 'could not release an idempotency key');
    });
    throw err;
  }
}
