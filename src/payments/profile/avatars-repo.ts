/** The avatars users uploaded (`user_avatars`): one per user, replaced by the next upload. */
import type { Selectable } from 'kysely';
import type { UserAvatarsTable } from '../../store/schema.js';
import { type Db, inTransaction } from '../lib/db.js';
import { newId } from '../lib/ids.js';

export type AvatarRow = Selectable<UserAvatarsTable>;

/** Stores the user's new avatar and forgets the previous ones; `then` runs in the same transaction. */
export async function replaceAvatar(
  db: Db,
  avatar: Omit<AvatarRow, 'id'>,
  then: (trx: Db, id: string) => Promise<void>,
): Promise<string> {
  const id = newId('avt');
  await inTransaction(db, async (trx) => {
    await trx.deleteFrom('user_avatars').where('user_id', '=', avatar.user_id).execute();
    await trx
      .insertInto('user_avatars')
      .values({ id, ...avatar })
      .execute();
    await then(trx, id);
  });
  return id;
}

export async function findAvatar(db: Db, id: string): Promise<AvatarRow | undefined> {
  return db.selectFrom('user_avatars').selectAll().where('id', '=', id).executeTakeFirst();
}
