/** Where a database stands against the migrations: what `minipay migrate` and `start` decide on. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { migrations, openStore, SchemaTooNewError } from '../../src/store/index.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('schema state', (stores) => {
  test('an empty database has every migration pending; a migrated one has none', async () => {
    const store = openStore(await stores.freshUrl());
    try {
      const known = Object.keys(migrations(store.dialect));
      assert.deepEqual(await store.schema(), { applied: [], pending: known, unknown: [] });
      assert.deepEqual(await store.migrate(), known);
      assert.deepEqual(await store.schema(), { applied: known, pending: [], unknown: [] });
    } finally {
      await store.close();
    }
  });

  test('a migration this version does not know: reported, and migrate() refuses to touch it', async () => {
    const store = await stores.fresh();
    await sql`insert into minipay_migrations (name, timestamp) values ('9999_from_a_newer_minipay', '2030-01-01T00:00:00.000Z')`.execute(
      store.db,
    );
    assert.deepEqual((await store.schema()).unknown, ['9999_from_a_newer_minipay']);
    await assert.rejects(store.migrate(), (err: Error) => {
      assert.ok(err instanceof SchemaTooNewError);
      assert.match(err.message, /newer than this minipay.*9999_from_a_newer_minipay/);
      return true;
    });
  });
});
