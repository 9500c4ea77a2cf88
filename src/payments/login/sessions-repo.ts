/**
 * The users and sessions repository. A session is stored by its token's sha256 only; the
 * user's `session_key` stays here and never leaves the server.
 */
import type { Kysely } from 'kysely';
import { preparedQuery } from '../../store/prepared-query.js';
import type { Database } from '../../store/schema.js';
import { newId } from '../lib/ids.js';

/** What jscode2session said about the user. */
export interface WechatSession {
  openid: string;
  unionid?: string;
  sessionKey: string;
}

/**
 * Upserts the user and adds the session, keeping the `keep` newest of the user's sessions, in
 * ONE transaction: the user's upsert locks their row until COMMIT, so one user's logins take
 * turns and each trims the sessions the others committed. Resolves the user's id.
 */
export function saveLogin(
  db: Kysely<Database>,
  wechat: WechatSession,
  session: { tokenHash: string; expiresAt: string },
  keep: number,
  at: string,
): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('users')
      .values({
        id: newId('usr'),
        openid: wechat.openid,
        unionid: wechat.unionid ?? null,
        session_key: wechat.sessionKey,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) =>
        oc.column('openid').doUpdateSet({
          session_key: wechat.sessionKey,
          unionid: wechat.unionid ?? null,
          updated_at: at,
        }),
      )
      .execute();
    const user = await trx
      .selectFrom('users')
      .select('id')
      .where('openid', '=', wechat.openid)
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('sessions')
      .values({
        token_hash: session.tokenHash,
        user_id: user.id,
        created_at: at,
        expires_at: session.expiresAt,
      })
      .execute();
    await keepNewest(trx, user.id, session.tokenHash, keep);
    return user.id;
  });
}

/** A user keeps the session just made and the newest others, `keep` in all. */
async function keepNewest(
  db: Kysely<Database>,
  userId: string,
  made: string,
  keep: number,
): Promise<void> {
  const others = db
    .selectFrom('sessions')
    .select('token_hash')
    .where('user_id', '=', userId)
    .where('token_hash', '!=', made)
    .orderBy('created_at', 'desc')
    .orderBy('token_hash', 'desc')
    .limit(keep - 1);
  await db
    .deleteFrom('sessions')
    .where('user_id', '=', userId)
    .where('token_hash', '!=', made)
    .where('token_hash', 'not in', others)
    .execute();
}

/** Ends the session with this token hash; true when there was one. */
export async function deleteSession(db: Kysely<Database>, tokenHash: string): Promise<boolean> {
  const r = await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Deletes the sessions expired at `now`; resolves to how many. */
export async function deleteExpiredSessions(db: Kysely<Database>, now: string): Promise<number> {
  const r = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** The user of a session and when it expires (every API request's first query). */
export async function findSession(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<{ id: string; openid: string; expiresAt: string } | undefined> {
  const [row] = await sessionUser(db, { hash: tokenHash });
  return row;
}

const sessionUser = preparedQuery<
  { hash: string },
  { id: string; openid: string; expiresAt: string }
>((db, p) =>
  db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id as id', 'users.openid as openid', 'sessions.expires_at as expiresAt'])
    .where('sessions.token_hash', '=', p('hash')),
);
