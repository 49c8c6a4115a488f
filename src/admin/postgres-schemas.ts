/**
 * Every component's schema on PostgreSQL, in the order `parley migrate`
 * applies them. Each store also migrates its own component when it opens,
 * so a node can start on a database nobody migrated.
 */
import { ACCOUNT_SCHEMA } from '../accounts/postgres-account-schema.js';
import { CHAT_SCHEMA } from '../chat/postgres-chat-schema.js';
import { STREAM_SCHEMA, type SchemaComponent } from '../store/postgres-migrations.js';

/** What `parley import` records of each data dir it copied, so a repeated import is a no-op. */
export const IMPORT_SCHEMA: SchemaComponent = {
  name: 'import',
  migrations: [
    {
      version: 1,
      statements: [
        `CREATE TABLE parley_imports (
           fingerprint text PRIMARY KEY, -- SHA-256 of every row copied, in a fixed order
           source      text NOT NULL,    -- the data dir as given
           counts      jsonb NOT NULL,
           imported_at timestamptz NOT NULL DEFAULT now()
         )`,
      ],
    },
  ],
};

export const POSTGRES_SCHEMAS: readonly SchemaComponent[] = [STREAM_SCHEMA, CHAT_SCHEMA, IMPORT_SCHEMA, ACCOUNT_SCHEMA];
