/**
 * The schema of the chat database (`chat.db`), versioned with
 * `PRAGMA user_version` (applied by `openSqliteFile`).
 *
 * Entry `i` takes the database from `user_version` i to i + 1. Append new
 * entries, never edit applied ones.
 */
export const CHAT_MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id         TEXT PRIMARY KEY NOT NULL,
     name       TEXT NOT NULL,
     color      TEXT NOT NULL,
     avatar     TEXT,              -- MD5 hex of an email for Gravatar; never the email
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE first_visits (
     user_id TEXT PRIMARY KEY NOT NULL
   ) WITHOUT ROWID;

   CREATE TABLE rooms (
     name       TEXT PRIMARY KEY NOT NULL,
     topic      TEXT NOT NULL,
     created_by TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE room_members (
     room      TEXT NOT NULL REFERENCES rooms (name),
     user_id   TEXT NOT NULL REFERENCES users (id),
     joined_at INTEGER NOT NULL,
     PRIMARY KEY (room, user_id)
   ) WITHOUT ROWID;
   CREATE INDEX room_members_by_user ON room_members (user_id);

   CREATE TABLE dms (
     channel    TEXT PRIMARY KEY NOT NULL,
     user_a     TEXT NOT NULL REFERENCES users (id),
     user_b     TEXT NOT NULL REFERENCES users (id),
     created_at INTEGER NOT NULL,
     CHECK (user_a < user_b)
   ) WITHOUT ROWID;
   CREATE INDEX dms_by_a ON dms (user_a);
   CREATE INDEX dms_by_b ON dms (user_b);

   CREATE TABLE messages (
     pk            INTEGER PRIMARY KEY,     -- row id, also the search index's rowid
     id            TEXT NOT NULL UNIQUE,
     channel       TEXT NOT NULL,
     seq           INTEGER NOT NULL,
     author_id     TEXT NOT NULL,
     author_name   TEXT NOT NULL,
     author_color  TEXT NOT NULL,
     author_avatar TEXT,
     text          TEXT NOT NULL,
     created_at    INTEGER NOT NULL,
     edited_at     INTEGER,
     deleted       INTEGER NOT NULL DEFAULT 0,
     reactions     TEXT NOT NULL DEFAULT '{}', -- JSON: emoji -> user ids in reaction order
     nonce         TEXT,
     UNIQUE (channel, seq)
   );
   CREATE UNIQUE INDEX messages_by_nonce ON messages (author_id, nonce) WHERE nonce IS NOT NULL;

   -- External-content index over the text of messages that are not deleted,
   -- kept in step by the triggers below, in the same transaction as each change.
   CREATE VIRTUAL TABLE messages_fts USING fts5 (
     text, content = 'messages', content_rowid = 'pk', tokenize = 'unicode61 remove_diacritics 2'
   );
   CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.deleted = 0 BEGIN
     INSERT INTO messages_fts (rowid, text) VALUES (new.pk, new.text);
   END;
   CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.deleted = 0 BEGIN
     INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.pk, old.text);
   END;
   CREATE TRIGGER messages_fts_update AFTER UPDATE OF text, deleted ON messages BEGIN
     INSERT INTO messages_fts (messages_fts, rowid, text) SELECT 'delete', old.pk, old.text WHERE old.deleted = 0;
     INSERT INTO messages_fts (rowid, text) SELECT new.pk, new.text WHERE new.deleted = 0;
   END;

   CREATE TABLE read_positions (
     user_id TEXT NOT NULL,
     channel TEXT NOT NULL,
     seq     INTEGER NOT NULL,
     PRIMARY KEY (user_id, channel)
   ) WITHOUT ROWID;

   CREATE TABLE guest_sessions (
     token_hash   TEXT PRIMARY KEY NOT NULL, -- SHA-256 hex of the refresh token
     user_id      TEXT NOT NULL,
     name         TEXT NOT NULL,
     color        TEXT NOT NULL,
     avatar       TEXT,
     created_at   INTEGER NOT NULL,
     last_used_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX guest_sessions_by_last_use ON guest_sessions (last_used_at);`,

  // Member versions: bumped by triggers, so no write path can forget one.
  `ALTER TABLE rooms ADD COLUMN members_version INTEGER NOT NULL DEFAULT 0;
   CREATE TRIGGER room_members_join AFTER INSERT ON room_members BEGIN
     UPDATE rooms SET members_version = members_version + 1 WHERE name = new.room;
   END;
   CREATE TRIGGER room_members_leave AFTER DELETE ON room_members BEGIN
     UPDATE rooms SET members_version = members_version + 1 WHERE name = old.room;
   END;
   CREATE TRIGGER users_profile_change AFTER UPDATE OF name, color, avatar ON users
   WHEN old.name IS NOT new.name OR old.color IS NOT new.color OR old.avatar IS NOT new.avatar BEGIN
     UPDATE rooms SET members_version = members_version + 1
     WHERE name IN (SELECT room FROM room_members WHERE user_id = new.id);
   END;`,

  // Account usernames, shown beside display names: on profiles and on each message's author snapshot.
  `ALTER TABLE users ADD COLUMN username TEXT;
   ALTER TABLE messages ADD COLUMN author_username TEXT;
   CREATE TRIGGER users_username_change AFTER UPDATE OF username ON users
   WHEN old.username IS NOT new.username BEGIN
     UPDATE rooms SET members_version = members_version + 1
     WHERE name IN (SELECT room FROM room_members WHERE user_id = new.id);
   END;`,
];
