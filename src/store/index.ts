export { type Dialect, openStore, redactUrl, type Store, type StoreOptions } from './database.js';
export { migrateToLatest, migrations } from './migrations.js';
export type * from './schema.js';
