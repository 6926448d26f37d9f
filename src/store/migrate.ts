// The run store's schema in PostgreSQL, owned by the project: numbered migrations in code, applied in order and
// recorded in schema_migrations. `thought-probe store migrate` runs them, and so may every worker at start:
// several at once are serialized by an advisory lock, so each migration is applied exactly once.
import type { Pool } from 'pg';

/** One step of the schema: applied once, in a transaction with its record in schema_migrations. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** A record's searchable text, the expression migration 3 indexes: its thought and suffix, lowercased, a newline between. */
export const RECORD_TEXT_SQL = "lower(coalesce(body->>'thought', '') || E'\\n' || coalesce(body->>'suffix', ''))";

/**
 * Every migration, oldest first. Never edit or renumber one that has shipped: add the next.
 *
 * 1. `entries`: one row per stored entry, first write wins through the primary key. `body` is `json`, not
 *    `jsonb`, on purpose: it keeps the entry exactly as written (key order, every character), so both backends
 *    return the same text and artifacts do not depend on the store. `xid` is the inserting transaction, which
 *    lets a reader catch up without missing rows that commit out of order (see PostgresRunStore.prime); `seq`
 *    keeps the order of insertion for `all`. A trigger notifies the run's channel of every inserted row, in
 *    the inserting transaction, so listeners hear only of committed entries, whoever inserted them.
 *    `documents`: the run's document (config, hash, what a resume reused), one row per run.
 * 2. `datasets`: a dataset's rows, put once under the hash of their content (`sha256:...`), shared by runs.
 * 3. An index of entries by run, arm, kind and `seq`, so a pass over an arm's entries reads them a page at a time
 *    in the order stored (`scan`); and a trigram index (pg_trgm, PostgreSQL's own contrib extension) over records'
 *    lowercased thought and suffix, so `view`'s search is an indexed `LIKE`. Where the extension cannot be created (no privilege, not installed), the
 *    migration goes on without the index and a search reads the arm's records instead.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'entries, documents, and the notification of every stored entry',
    sql: `
      CREATE TABLE entries (
        run_id text NOT NULL,
        arm text NOT NULL,
        kind text NOT NULL,
        key text NOT NULL,
        body json NOT NULL,
        seq bigserial NOT NULL,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (run_id, arm, kind, key)
      );
      CREATE INDEX entries_by_xid ON entries (run_id, arm, kind, xid);
      CREATE TABLE documents (
        run_id text PRIMARY KEY,
        body json NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE FUNCTION thought_probe_entry_stored() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        PERFORM pg_notify('thought_probe_' || md5(NEW.run_id), NEW.arm || chr(1) || NEW.kind || chr(1) || NEW.key);
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER entries_notify AFTER INSERT ON entries
        FOR EACH ROW EXECUTE FUNCTION thought_probe_entry_stored();
    `,
  },
  {
    version: 2,
    name: 'datasets by reference',
    sql: `
      CREATE TABLE datasets (
        ref text PRIMARY KEY,
        count int NOT NULL,
        rows json NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 3,
    name: 'entries in order by run, arm and kind, and a trigram index of the records\' text, for whole-run passes and view\'s search',
    sql: `
      CREATE INDEX entries_by_seq ON entries (run_id, arm, kind, seq);
      DO $migration$
      BEGIN
        BEGIN
          CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN
          RAISE NOTICE 'pg_trgm could not be created (%): searches of records read every record of the arm', SQLERRM;
        END;
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
          CREATE INDEX entries_record_text ON entries USING gin ((${RECORD_TEXT_SQL}) gin_trgm_ops) WHERE kind = 'records';
        END IF;
      END
      $migration$;
    `,
  },
];

/** The schema version this code needs: the last migration's. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

// The advisory lock every migrator takes ('tpro' and 1): one migrator at a time per database.
const LOCK = [0x7470726f, 1] as const;

/** What a migrate did: the versions it applied now (none when the schema was current) and the version after. */
export interface MigrateResult {
  applied: number[];
  version: number;
}

/**
 * Applies the migrations the database lacks, in one transaction under an advisory lock, so several workers
 * starting at once neither race nor apply one twice; a second call is a no-op.
 */
export async function migrate(pool: Pool): Promise<MigrateResult> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version int PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return { applied, version: Math.max(0, ...done, ...applied) };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
