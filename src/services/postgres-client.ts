import postgres, { type Sql } from 'postgres';

/**
 * The PostgreSQL client a node shares between its stores (postgres.js pool).
 *
 * Why these settings: a node cut off mid-transaction would keep a channel's
 * row lock (and stall every other node's publishes there) until PostgreSQL
 * drops its session, so idle transactions and statements are bounded and
 * TCP keepalives notice a dead peer. postgres.js reconnects by itself: after
 * an outage, the next query opens a new connection.
 */
export function createPostgresClient(url: string, options: { maxConnections?: number } = {}): Sql {
  return postgres(url, {
    max: options.maxConnections ?? 10,
    connect_timeout: 5,
    keep_alive: 15,
    idle_timeout: 60,
    onnotice: () => undefined,
    connection: {
      application_name: 'parley',
      idle_in_transaction_session_timeout: 15_000,
      statement_timeout: 30_000,
    },
  });
}
