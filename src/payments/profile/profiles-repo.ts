/** The users' profiles (`user_profiles`): one row per user, made at its first change. */
import type { Selectable, Updateable } from 'kysely';
import type { UserProfilesTable } from '../../store/schema.js';
import type { Db } from '../lib/db.js';

export type ProfileRow = Selectable<UserProfilesTable>;

export async function findProfile(db: Db, userId: string): Promise<ProfileRow | undefined> {
  return db
    .selectFrom('user_profiles')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** Sets `change` on the user's profile, creating it when there is none. */
export async function saveProfile(
  db: Db,
  userId: string,
  change: Updateable<UserProfilesTable>,
  at: Date,
): Promise<void> {
  const updated_at = at.toISOString();
  await db
    .insertInto('user_profiles')
    .values({
      user_id: userId,
      nickname: null,
      avatar_url: null,
      phone: null,
      phone_country_code: null,
      phone_granted_at: null,
      ...change,
      updated_at,
    })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ ...change, updated_at }))
    .execute();
}
