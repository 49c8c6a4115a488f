/**
 * Fresh PostgreSQL databases for tests, on the service the machine (or CI)
 * runs. A test never touches existing data: it creates `parley_test_<random>`
 * from a connection to the `test` database and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import postgres, { type Sql } from 'postgres';

/** The server and maintenance database tests create their databases from. */
const ADMIN_URL = process.env.PARLEY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A database made for one test run. */
export interface TestDatabase {
  readonly name: string;
  /** Its connection URL, for a child process (`--postgres-url`); it may carry a password, so never print it. */
  readonly url: string;
  /** A new client on this database (optionally with `search_path` set to `schema`); ended by {@link drop}. */
  client(schema?: string): Sql;
  /** Ends one client made by {@link client}. */
  end(sql: Sql): Promise<void>;
  /** A new, empty schema in this database, for a test that needs its own tables. */
  createSchema(): Promise<string>;
  /**
   * Stores on a new, empty schema, each made by `make` on a client of its
   * own (as each node has): `open` makes one; `cleanup` ends their clients.
   */
  storesOnFreshSchema<S>(make: (sql: Sql) => S): Promise<{ open(): S; cleanup(): Promise<void> }>;
  /** Ends every client and drops the database. */
  drop(): Promise<void>;
}

const quiet = { onnotice: () => {}, connect_timeout: 5 };

/**
 * Creates a fresh database.
 * @throws Error naming the server when PostgreSQL cannot be reached (the tests need it; nothing is skipped).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(ADMIN_URL, { ...quiet, max: 1 });
  try {
    // An identifier cannot be a bind parameter; the name is made here from hex digits only.
    await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8'`);
  } catch (err) {
    await admin.end({ timeout: 1 });
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`PostgreSQL is needed for this test and could not be used at ${ADMIN_URL.replace(/\/\/[^@]*@/, '//')}: ${reason}`);
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const clients = new Set<Sql>();
  const end = async (sql: Sql): Promise<void> => {
    clients.delete(sql);
    await sql.end({ timeout: 5 });
  };
  const client = (schema?: string): Sql => {
    const sql = postgres(url.toString(), { ...quiet, max: 4, ...(schema ? { connection: { search_path: schema } } : {}) });
    clients.add(sql);
    return sql;
  };
  let schemas = 0;
  const setup = client();
  const createSchema = async (): Promise<string> => {
    const schema = `s${++schemas}`;
    await setup.unsafe(`CREATE SCHEMA ${schema}`);
    return schema;
  };
  return {
    name,
    url: url.toString(),
    client,
    end,
    createSchema,
    async storesOnFreshSchema(make) {
      const schema = await createSchema();
      const mine: Sql[] = [];
      return {
        open: () => {
          const sql = client(schema);
          mine.push(sql);
          return make(sql);
        },
        cleanup: async () => {
          await Promise.all(mine.map(end));
        },
      };
    },
    async drop() {
      try {
        await Promise.all([...clients].map(end));
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end({ timeout: 5 });
      }
    },
  };
}
