/**
 * The idempotency keys repository: the first request with a key claims it; a repeat with the
 * same body gets the stored answer, with another body a 422, while the first is still running a
 * 409. When the first attempt created something and then failed transiently (WeChat timed
 * out), the key is left `retryable` so the next attempt resumes that resource instead of making
 * a second one. The sequence a keyed request follows is idempotent-request.ts.
 */
import type { Kysely } from 'kysely';
import { preparedQuery } from '../../store/prepared-query.js';
import type { Database } from '../../store/schema.js';
import type { Db } from '../lib/db.js';
import { DomainError } from '../lib/errors.js';

/** How long a claim holds before a crashed attempt's key can be taken over. */
const LOCK_MS = 60_000;
/** Keys are kept this long (docs/http-api.md: 24 hours). */
const KEEP_MS = 24 * 3600_000;

export type Claim =
  | { kind: 'new' }
  | { kind: 'resume'; resourceId: string }
  | { kind: 'replay'; status: number; body: unknown };

export class IdempotencyKeys {
  constructor(private readonly db: Kysely<Database>) {}

  async claim(scope: string, key: string, hash: string, now: Date): Promise<Claim> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.claimNew(this.db, scope, key, hash, now, null)) return { kind: 'new' };
      const claim = await this.existing(scope, key, hash, now);
      if (claim) return claim;
    }
    throw inProgress();
  }

  /**
   * Claims a key no one holds, for `resourceId` when given, in `db` (the caller's transaction
   * that writes that resource, so key and resource commit together). Resolves false when the
   * key exists; `claim` then says what it holds.
   */
  async claimNew(
    db: Db,
    scope: string,
    key: string,
    hash: string,
    now: Date,
    resourceId: string | null,
  ): Promise<boolean> {
    const claimed = await insertKey(db, {
      scope,
      key,
      hash,
      resourceId,
      lockedUntil: new Date(now.getTime() + LOCK_MS).toISOString(),
      at: now.toISOString(),
      expiresAt: new Date(now.getTime() + KEEP_MS).toISOString(),
    });
    // RETURNING says whether this insert made the row (on a conflict it returns none).
    return claimed.length === 1;
  }

  /** Resolves null when the stored key expired and was removed (the caller inserts again). */
  private async existing(scope: string, key: string, hash: string, now: Date) {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return null;
    const iso = now.toISOString();
    if (row.expires_at <= iso) {
      await this.db
        .deleteFrom('idempotency_keys')
        .where('scope', '=', scope)
        .where('key', '=', key)
        .where('expires_at', '=', row.expires_at)
        .execute();
      return null;
    }
    if (row.request_hash !== hash) {
      throw new DomainError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        'this Idempotency-Key was already used for a different request; use a new key for a new purchase',
      );
    }
    if (row.state === 'done') {
      return {
        kind: 'replay' as const,
        status: row.response_status ?? 200,
        body: JSON.parse(row.response_body ?? 'null') as unknown,
      };
    }
    const stale = row.state === 'retryable' || (row.locked_until ?? '') <= iso;
    if (!stale) throw inProgress();
    const taken = await this.db
      .updateTable('idempotency_keys')
      .set({ state: 'in_progress', locked_until: new Date(now.getTime() + LOCK_MS).toISOString() })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .where('state', '=', row.state)
      .where('locked_until', row.locked_until === null ? 'is' : '=', row.locked_until)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) !== 1) throw inProgress();
    return row.resource_id
      ? { kind: 'resume' as const, resourceId: row.resource_id }
      : { kind: 'new' as const };
  }

  /** `db`: the caller's transaction writing the resource, when there is one. */
  async attach(scope: string, key: string, resourceId: string, db: Db = this.db): Promise<void> {
    await db
      .updateTable('idempotency_keys')
      .set({ resource_id: resourceId })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
  }

  /** `db`: the caller's transaction recording the outcome, when there is one. */
  async complete(
    scope: string,
    key: string,
    status: number,
    body: unknown,
    db: Db = this.db,
  ): Promise<void> {
    await completeKey(db, { status, body: JSON.stringify(body), scope, key });
  }

  /** The attempt failed: forget the key, or keep it `retryable` when it made a resource. */
  async release(scope: string, key: string, resourceId: string | null): Promise<void> {
    const where = this.db
      .updateTable('idempotency_keys')
      .where('scope', '=', scope)
      .where('key', '=', key);
    if (resourceId) {
      await where
        .set({ state: 'retryable', resource_id: resourceId, locked_until: null })
        .execute();
    } else {
      await this.db
        .deleteFrom('idempotency_keys')
        .where('scope', '=', scope)
        .where('key', '=', key)
        .execute();
    }
  }

  /** Drops expired keys; resolves to how many. */
  async purge(now: Date): Promise<number> {
    const r = await this.db
      .deleteFrom('idempotency_keys')
      .where('expires_at', '<=', now.toISOString())
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

/** A new key, in progress (compiled once: every checkout and refund claims one). */
const insertKey = preparedQuery<
  {
    scope: string;
    key: string;
    hash: string;
    resourceId: string | null;
    lockedUntil: string;
    at: string;
    expiresAt: string;
  },
  { scope: string }
>((db, p) =>
  db
    .insertInto('idempotency_keys')
    .values({
      scope: p('scope'),
      key: p('key'),
      request_hash: p('hash'),
      state: 'in_progress',
      resource_id: p('resourceId'),
      response_status: null,
      response_body: null,
      locked_until: p('lockedUntil'),
      created_at: p('at'),
      expires_at: p('expiresAt'),
    })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('scope'),
);

const completeKey = preparedQuery<
  { status: number; body: string; scope: string; key: string },
  never
>((db, p) =>
  db
    .updateTable('idempotency_keys')
    .set({
      state: 'done',
      response_status: p('status'),
      response_body: p('body'),
      locked_until: null,
    })
    .where('scope', '=', p('scope'))
    .where('key', '=', p('key')),
);

const inProgress = () =>
  new DomainError(
    409,
    'IDEMPOTENCY_IN_PROGRESS',
    'a request with this Idempotency-Key is still being processed; retry in a moment',
  );
