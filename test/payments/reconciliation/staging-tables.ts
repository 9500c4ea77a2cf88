/** Test helper: the temporary tables a reconciliation run stages its bill in. */
import { sql } from 'kysely';
import type { SandboxServer } from '../../support/sandbox-server.js';

/** The staging tables still there (on SQLite: those of the store's connection). */
export async function stagingTables(s: SandboxServer): Promise<number> {
  const query =
    s.server.store.dialect === 'sqlite'
      ? sql<{
          n: number;
        }>`select count(*) as n from sqlite_temp_master where name like 'reconciliation_bill%'`
      : sql<{
          n: number;
        }>`select count(*) as n from pg_class where relname like 'reconciliation_bill%'`;
  const { rows } = await query.execute(s.server.store.db);
  return Number(rows[0]!.n);
}
