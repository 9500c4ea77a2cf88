/** The database: it answers, and its schema is this minipay's (never created or changed here). */
import { openStore, type Store } from '../store/index.js';
import { type Check, type Finding, fail, pass } from './check.js';

export const databaseCheck: Check = {
  name: 'database',
  async run({ config }) {
    let store: Store;
    try {
      store = openStore(config.databaseUrl, { mustExist: true, poolSize: 1 });
    } catch (err) {
      return fail(
        `${(err as Error).message}: check MINIPAY_DATABASE_URL (a relative path is from the working directory, here ${process.cwd()}), or create it with \`minipay migrate\``,
      );
    }
    try {
      return await schemaFinding(store, config.migrate);
    } finally {
      await store.close();
    }
  },
};

async function schemaFinding(store: Store, migrate: 'auto' | 'off'): Promise<Finding> {
  let state: Awaited<ReturnType<Store['schema']>>;
  try {
    state = await store.schema();
  } catch (err) {
    return fail(
      `${store.description} does not answer (${(err as Error).message}): check MINIPAY_DATABASE_URL, the server, the user and the password`,
    );
  }
  const { applied, pending, unknown } = state;
  if (unknown.length > 0) {
    return fail(
      `${store.description} was migrated by a newer minipay (${unknown.join(', ')}): run that version or a later one`,
    );
  }
  if (pending.length === 0) {
    return pass(`${store.description} answers and is migrated (${applied.at(-1)})`);
  }
  const list = `${pending.length} migration${pending.length > 1 ? 's' : ''} pending (${pending.join(', ')})`;
  return migrate === 'auto'
    ? pass(`${store.description} answers; ${list}, which minipay start runs (MINIPAY_MIGRATE=auto)`)
    : fail(
        `${store.description} is not migrated: ${list}, and MINIPAY_MIGRATE=off: run \`minipay migrate\``,
      );
}
