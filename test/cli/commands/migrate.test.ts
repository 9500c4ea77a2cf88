/**
 * `minipay migrate` and how `minipay start` treats the schema: migrates by default, refuses a
 * database that is behind with MINIPAY_MIGRATE=off, and always refuses a newer one.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { sql } from 'kysely';
import { startOverrides } from '../../../src/cli/commands/start.js';
import { migrations, openStore } from '../../../src/store/index.js';
import { minipay } from '../../support/cli.js';
import { describeOnStores } from '../../support/stores.js';

async function finished(args: string[], env: Record<string, string>) {
  const run = minipay(args, env);
  const [code] = await once(run.child, 'exit');
  return { code: code as number, ...run.output() };
}

test('--no-migrate is MINIPAY_MIGRATE=off', () => {
  assert.deepEqual(startOverrides(['--no-migrate']).env, { MINIPAY_MIGRATE: 'off' });
});

describeOnStores('minipay migrate', (stores) => {
  test('migrates an empty database, says so, and finds nothing to do the second time', async () => {
    const url = await stores.freshUrl();
    const env = { MINIPAY_DATABASE_URL: url };
    const first = await finished(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    const known = Object.keys(migrations(stores.kind));
    for (const name of known) assert.match(first.stdout, new RegExp(`applied ${name}`));
    assert.match(
      first.stdout,
      new RegExp(`done: ${known.length} applied; the database is at ${known.at(-1)}`),
    );
    if (stores.kind === 'postgres') assert.match(first.stdout, /job queue schema .* is current/);
    const again = await finished(['migrate'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /nothing to do: the database is already at/);
    assert.doesNotMatch(again.stdout, /applied 0/);
  });

  test('start with MINIPAY_MIGRATE=off refuses a database that is behind, and starts once it is migrated', async (t) => {
    const url = await stores.freshUrl();
    const env = { MINIPAY_DATABASE_URL: url, MINIPAY_MIGRATE: 'off' };
    const refused = await finished(['start', '--port', '0'], env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /the database is not migrated: \d+ migrations pending/);
    assert.match(refused.stderr, /Run `minipay migrate` once with this version, then start/);
    const store = openStore(url);
    assert.deepEqual(
      (await store.schema()).applied,
      [],
      'start with migrations off changed nothing',
    );
    await store.close();

    assert.equal((await finished(['migrate'], env)).code, 0);
    const run = minipay(['start', '--port', '0'], env);
    t.after(() => run.child.kill('SIGKILL'));
    const [, api] = await run.waitFor(/Mini program API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/);
    assert.equal((await fetch(`${api}/readyz`)).status, 200);
    run.child.kill('SIGTERM');
    assert.equal((await once(run.child, 'exit'))[0], 0);
  });

  test('PostgreSQL: with MINIPAY_MIGRATE=off, a missing job queue schema is refused too', {
    skip: stores.kind !== 'postgres' && 'the job queue is pg-boss on PostgreSQL only',
  }, async () => {
    const url = await stores.freshUrl();
    const store = openStore(url);
    await store.migrate(); // minipay's tables only, not pg-boss's
    await store.close();
    const refused = await finished(['start', '--port', '0'], {
      MINIPAY_DATABASE_URL: url,
      MINIPAY_MIGRATE: 'off',
    });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /the job queue's schema \(pg-boss, minipay_jobs\) is missing or older than this minipay.*Run `minipay migrate`/,
    );
  });

  test('a database migrated by a newer minipay: start and migrate refuse it and change nothing', async () => {
    const url = await stores.freshUrl();
    const store = openStore(url);
    await store.migrate();
    await sql`insert into minipay_migrations (name, timestamp) values ('9999_from_a_newer_minipay', '2030-01-01T00:00:00.000Z')`.execute(
      store.db,
    );
    const before = await store.schema();
    await store.close();
    for (const args of [['start', '--port', '0'], ['migrate']]) {
      const refused = await finished(args, { MINIPAY_DATABASE_URL: url });
      assert.equal(refused.code, 1, `${args[0]} exits 1`);
      assert.match(
        refused.stderr,
        /the database schema is newer than this minipay: it has migration 9999_from_a_newer_minipay, which this version does not know/,
      );
    }
    const after = openStore(url);
    assert.deepEqual(await after.schema(), before);
    await after.close();
  });
});
