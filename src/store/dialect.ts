/** The two databases minipay runs on: SQLite (embedded, the default) or PostgreSQL. */
export type Dialect = 'sqlite' | 'postgres';
