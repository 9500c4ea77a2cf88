export {
  openStore,
  redactUrl,
  type Store,
  type StoreDriver,
  type StoreOptions,
  storeDriver,
} from './database.js';
export type { Dialect } from './dialect.js';
export {
  groupCommit,
  type Transactor,
  transactionPerUnit,
  type UnitOfWork,
} from './group-commit.js';
export {
  migrateToLatest,
  migrations,
  type SchemaState,
  SchemaTooNewError,
  schemaState,
} from './migrations.js';
export type * from './schema.js';
