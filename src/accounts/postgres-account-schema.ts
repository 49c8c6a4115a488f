/**
 * The account store's tables on PostgreSQL, migrated with the other
 * components' under one advisory lock (see `store/postgres-migrations.ts`).
 * Times are milliseconds since the Unix epoch in `bigint`s.
 */
import type { SchemaComponent } from '../store/postgres-migrations.js';

export const ACCOUNT_SCHEMA: SchemaComponent = {
  name: 'account',
  migrations: [
    {
      version: 1,
      statements: [
        `CREATE TABLE account_users (
           id                  text PRIMARY KEY,
           username            text NOT NULL,
           username_key        text NOT NULL UNIQUE,
           display_name        text NOT NULL,
           password_hash       text NOT NULL,
           role                text NOT NULL CHECK (role IN ('admin', 'member')),
           deactivated_at      bigint,
           created_at          bigint NOT NULL,
           password_changed_at bigint NOT NULL
         )`,
        `CREATE TABLE account_sessions (
           token_hash   text PRIMARY KEY, -- SHA-256 hex of the refresh token
           account_id   text NOT NULL REFERENCES account_users (id),
           device       text NOT NULL,
           created_at   bigint NOT NULL,
           last_used_at bigint NOT NULL,
           expires_at   bigint NOT NULL
         )`,
        `CREATE INDEX account_sessions_by_account ON account_sessions (account_id)`,
        `CREATE TABLE account_invites (
           code_hash  text PRIMARY KEY, -- SHA-256 hex of the invite code
           created_by text NOT NULL,
           created_at bigint NOT NULL,
           expires_at bigint NOT NULL,
           max_uses   integer NOT NULL CHECK (max_uses >= 1),
           uses       integer NOT NULL DEFAULT 0
         )`,
      ],
    },
    {
      version: 2,
      statements: [
        `CREATE TABLE account_audit (
           id      bigserial PRIMARY KEY,
           at      bigint NOT NULL,
           actor   text NOT NULL,
           action  text NOT NULL,
           target  text,
           channel text,
           detail  text
         )`,
      ],
    },
    {
      // Sessions get a short random id of their own (connection tokens and device lists carry it, never the token hash).
      version: 3,
      statements: [
        `ALTER TABLE account_sessions ADD COLUMN id text`,
        `UPDATE account_sessions SET id = substr(md5(random()::text || clock_timestamp()::text || token_hash), 1, 24)`,
        `ALTER TABLE account_sessions ALTER COLUMN id SET NOT NULL`,
        `CREATE UNIQUE INDEX account_sessions_by_id ON account_sessions (id)`,
      ],
    },
  ],
};
