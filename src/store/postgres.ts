import { createHash } from 'node:crypto';
import { Client, Pool, type PoolConfig, type QueryResultRow } from 'pg';
import type { DatasetRow, RunConfig } from '../config/schema';
import { hostname } from 'node:os';
import { MissingStoreUrlError, MissingStoredInputError, ProbeError, StoreAccessDeniedError, StoreUnavailableError } from '../errors';
import { datasetRef, type DatasetStore } from './datasets';
import { RECORD_TEXT_SQL } from './migrate';
import type { RunDocument, RunStore, StoreKind, StoredListener } from './types';

/** A PostgreSQL store's reference: the environment variable that holds the URL on each worker, and the run. */
export type PostgresStoreRef = { kind: 'postgres'; urlEnv: string; runId: string };

const pools = new Map<string, Pool>();

// Connections fail fast when the server is down (the caller retries); idle ones do not keep a process alive.
const POOL_OPTIONS: PoolConfig = { max: 10, connectionTimeoutMillis: 10_000, idleTimeoutMillis: 30_000, keepAlive: true, allowExitOnIdle: true };

/** The connection pool of a database URL, one per process: every store on that URL shares it. */
export function postgresPool(url: string): Pool {
  let pool = pools.get(url);
  if (!pool) {
    pool = new Pool({ ...POOL_OPTIONS, connectionString: url, application_name: 'thought-probe' });
    // An idle connection the server closed (a restart): the pool drops it; without a handler it would crash us.
    pool.on('error', () => undefined);
    pools.set(url, pool);
  }
  return pool;
}

/** Ends every pool this process opened (at worker shutdown, or after a CLI command). */
export async function closePostgresPools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.end().catch(() => undefined)));
}

/** The store of a PostgreSQL reference, its URL read from `env` when first used (the store registry's factory). */
export function openPostgresStore(ref: PostgresStoreRef, env: NodeJS.ProcessEnv = process.env): PostgresRunStore {
  return new PostgresRunStore(ref, { env });
}

/** The datasets of the PostgreSQL store at the URL in `env[urlEnv]`: rows put once under their content hash. */
export function postgresDatasets(urlEnv: string, env: NodeJS.ProcessEnv = process.env, url?: string): DatasetStore {
  const db = new StoreDatabase(urlEnv, env, url, 'datasets');
  return {
    async put(rows: DatasetRow[]): Promise<string> {
      const ref = datasetRef(rows);
      await db.query(
        `put dataset ${ref}`,
        'INSERT INTO datasets (ref, count, rows) VALUES ($1, $2, $3::json) ON CONFLICT (ref) DO NOTHING',
        [ref, rows.length, JSON.stringify(rows)],
      );
      return ref;
    },
    async get(ref: string): Promise<DatasetRow[] | undefined> {
      const found = await db.query<{ rows: DatasetRow[] }>(`read dataset ${ref}`, 'SELECT rows FROM datasets WHERE ref = $1', [ref]);
      const rows = found[0]?.rows;
      // Rows that do not hash to their reference are not these rows (edited by hand): never use them.
      return rows && datasetRef(rows) === ref ? rows : undefined;
    },
  };
}

/** Removes a URL and its password from a text (an error message), wherever they occur. */
export function redactUrl(text: string, url: string | undefined): string {
  let out = text;
  if (url) {
    out = out.split(url).join('<the store URL>');
    let password = '';
    try {
      password = new URL(url).password;
    } catch {
      // Not a URL at all: nothing more to take out than the whole text above.
    }
    for (const p of new Set([password, safeDecode(password)])) if (p) out = out.split(p).join('***');
  }
  // Any other URL with a password (a message quoting a connection string).
  return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^@\s]*@/gi, '$1***@');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Where a URL points (host, port, database), without its user or password: for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'an unreadable URL';
  }
}

// Errors of the connection rather than of the statement: worth trying again in a moment (a restart, a reset).
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', '40001', '40P01']);

function isTransient(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (err?.code && (TRANSIENT_CODES.has(err.code) || err.code.startsWith('08'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err?.message ?? '');
}

// Short, then longer: a fast restart of the server takes about a second; after these the activity's retry takes over.
const RETRY_DELAYS_MS = [50, 200, 500, 1000, 2000];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const channelOf = (runId: string) => `thought_probe_${createHash('md5').update(runId, 'utf8').digest('hex')}`;

// The separator of arm, kind and key in a notification (a character no name or key holds).
const SEP = '\u0001';

/**
 * One database as the stores reach it: its URL from an environment variable (read when first used, never put in a
 * message), the process's pool for it, and statements retried over connection errors (a restart) that fail as
 * StoreUnavailableError naming the variable and the fix.
 */
class StoreDatabase {
  constructor(
    readonly urlEnv: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly givenUrl: string | undefined,
    private readonly what: string,
  ) {}

  /** The database URL (a secret). */
  get url(): string {
    const url = this.givenUrl ?? this.env[this.urlEnv];
    if (!url) {
      throw new MissingStoreUrlError(this.urlEnv, `in this process (${process.pid}@${hostname()})`);
    }
    return url;
  }

  /** Runs a statement, again after a connection error, and turns failures into StoreUnavailableError. */
  async query<R extends QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]> {
    let url: string | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        url = this.url;
        return (await postgresPool(url).query<R>(text, values)).rows;
      } catch (e) {
        if (e instanceof ProbeError) throw e;
        if (attempt < RETRY_DELAYS_MS.length && isTransient(e)) {
          await sleep(RETRY_DELAYS_MS[attempt]!);
          continue;
        }
        throw this.failure(what, e, url);
      }
    }
  }

  /** An error for a failed statement that names the store and the fix, and never its URL or password. */
  private failure(what: string, e: unknown, url: string | undefined): StoreUnavailableError | StoreAccessDeniedError {
    const err = e as { code?: string; message?: string };
    const where = `the PostgreSQL run store (${this.urlEnv}${url ? `: ${describeUrl(url)}` : ''}, ${this.what})`;
    const fix =
      err?.code === '42P01' || err?.code === '42883'
        ? `; its schema is missing or old: run \`thought-probe store migrate --url-env ${this.urlEnv}\``
        : err?.code === '28P01' || err?.code === '28000'
          ? `; check the user and password in ${this.urlEnv}`
          : '';
    const detail = redactUrl(err?.message ?? String(e), url);
    const message = `${where}: ${what} failed: ${detail}${err?.code ? ` (${err.code})` : ''}${fix}`;
    // Refused credentials or a database that does not exist: a wrong URL, not an outage.
    if (err?.code === '28P01' || err?.code === '28000') return new StoreAccessDeniedError(message, this.urlEnv, `check the user and password in ${this.urlEnv}`);
    if (err?.code === '3D000') return new StoreAccessDeniedError(`${message}; create the database or fix its name in ${this.urlEnv}`, this.urlEnv, `create the database, or fix its name in ${this.urlEnv}`);
    return new StoreUnavailableError(message);
  }
}

// Entries an index keeps per arm and kind, beyond what each batch keeps for itself (RunStore.load): a window of the
// latest, not the run's every text. Beyond it the oldest are forgotten (read again if asked for), so a worker's
// memory stays flat however large the run.
const INDEX_CAP = 1024;

/** A record's searchable text as migration 3 indexes it (the same expression, so the planner uses the index). */
const RECORD_TEXT = RECORD_TEXT_SQL;

/** Keeps an entry in an index, forgetting the oldest beyond the cap. */
function remember(idx: EntryIndex, key: string, body: unknown): void {
  if (idx.entries.has(key)) return;
  idx.entries.set(key, body);
  if (idx.entries.size > idx.cap) {
    for (const old of idx.entries.keys()) {
      if (idx.entries.size <= idx.cap) break;
      idx.entries.delete(old);
    }
  }
}

interface EntryIndex {
  entries: Map<string, unknown>;
  cap: number;
  /** Whether `prime` read this index (so a reconnect catches it up); `load` reads only the keys it is given. */
  primed: boolean;
  /** Every row of a transaction older than this was visible to the last read: later reads start here. */
  xmin: string;
  /** The read in progress, so two primes never move the horizon back. */
  reading: Promise<unknown>;
}

/**
 * A run's store in PostgreSQL: `entries` (one row per key, first write wins through the primary key and
 * `INSERT ... ON CONFLICT DO NOTHING`) and `documents`. Each process keeps an index per arm and kind that
 * `prime` tops up, so `peek` answers without I/O; a listening connection hears of entries stored by any
 * process on any host (a trigger notifies the run's channel on commit), so `onStored` fires for those too.
 */
export class PostgresRunStore implements RunStore {
  readonly ref: PostgresStoreRef;
  private readonly db: StoreDatabase;
  private readonly indexes = new Map<string, EntryIndex>();
  private readonly listeners = new Set<StoredListener>();
  private config?: RunConfig;
  private rows?: Map<string, DatasetRow>;

  private readonly indexCap: number;

  /**
   * The store of `ref.runId` at the URL in `ref.urlEnv` of `options.env` (read when first used), or at `options.url`;
   * `indexCap` entries per arm and kind are kept in memory (1,024 unless told).
   */
  constructor(ref: PostgresStoreRef, options: { url?: string; env?: NodeJS.ProcessEnv; indexCap?: number } = {}) {
    this.ref = ref;
    this.indexCap = options.indexCap ?? INDEX_CAP;
    this.db = new StoreDatabase(ref.urlEnv, options.env ?? process.env, options.url, `run ${ref.runId}`);
  }

  /** Whether two stores are in the same database (so one statement can copy between them). */
  sameDatabase(other: PostgresRunStore): boolean {
    return this.db.url === other.db.url;
  }

  private query<R extends QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]> {
    return this.db.query<R>(what, text, values);
  }

  private index(arm: string, kind: StoreKind): EntryIndex {
    const id = `${arm}\u0000${kind}`;
    let idx = this.indexes.get(id);
    if (!idx) {
      idx = { entries: new Map(), cap: this.indexCap, primed: false, xmin: '0', reading: Promise.resolve() };
      this.indexes.set(id, idx);
    }
    return idx;
  }

  /**
   * Reads the rows of (arm, kind) this process may not have seen, and returns the keys that were new to it.
   * Not by a sequence number: rows can commit out of the order of their numbers, and a reader that passed a
   * number would skip a row committed after it. Instead each read notes the oldest transaction still running
   * (its snapshot's xmin); every older transaction was visible to that read, so the next read takes only rows
   * of transactions from that one on (a few rows are read twice and kept once).
   */
  private refresh(arm: string, kind: StoreKind): Promise<string[]> {
    const idx = this.index(arm, kind);
    idx.primed = true;
    const next = idx.reading.then(async () => {
      const rows = await this.query<{ horizon: string; key: string | null; body: unknown }>(
        `prime ${kind} of arm ${arm}`,
        `WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon)
         SELECT s.horizon, e.key, e.body FROM s
         LEFT JOIN entries e ON e.run_id = $1 AND e.arm = $2 AND e.kind = $3 AND e.xid >= $4::xid8
         ORDER BY e.seq`,
        [this.ref.runId, arm, kind, idx.xmin],
      );
      const added: string[] = [];
      for (const r of rows) {
        if (r.key === null || idx.entries.has(r.key)) continue;
        remember(idx, r.key, r.body);
        added.push(r.key);
      }
      if (rows[0]) idx.xmin = rows[0].horizon;
      return added;
    });
    // A failed read must not poison later ones.
    idx.reading = next.catch(() => undefined);
    return next;
  }

  /** Reads what any writer stored for (arm, kind) since this process last looked, so `peek` sees it. */
  async prime(arm: string, kind: StoreKind): Promise<void> {
    await this.refresh(arm, kind);
  }

  /** Reads the entries stored under these keys (any writer), so `peek` sees them; one statement. */
  async load<T>(arm: string, kind: StoreKind, keys: readonly string[]): Promise<Map<string, T>> {
    const idx = this.index(arm, kind);
    const found = new Map<string, T>();
    const missing: string[] = [];
    for (const k of new Set(keys)) {
      const e = idx.entries.get(k);
      if (e !== undefined) found.set(k, e as T);
      else missing.push(k);
    }
    if (missing.length === 0) return found;
    const rows = await this.query<{ key: string; body: T }>(
      `read ${missing.length} ${kind} of arm ${arm}`,
      'SELECT key, body FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3 AND key = ANY($4::text[])',
      [this.ref.runId, arm, kind, missing],
    );
    for (const r of rows) {
      remember(idx, r.key, r.body);
      found.set(r.key, r.body);
    }
    return found;
  }

  /** The entries under these keys, one statement, not kept in the index. */
  async lookup<T>(arm: string, kind: StoreKind, keys: readonly string[]): Promise<Map<string, T>> {
    const rows = await this.query<{ key: string; body: T }>(
      `read ${keys.length} ${kind} of arm ${arm}`,
      'SELECT key, body FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3 AND key = ANY($4::text[])',
      [this.ref.runId, arm, kind, [...new Set(keys)]],
    );
    return new Map(rows.map((r) => [r.key, r.body]));
  }

  /**
   * Keys of an arm's records whose thought or suffix (lowercased) holds every term: one statement, `LIKE` over the
   * text that the trigram index of migration 3 serves (pg_trgm), or a scan of the run's records where it could not be made.
   */
  async searchRecords(arm: string, terms: readonly string[]): Promise<string[]> {
    const patterns = terms.map((t) => `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    // One LIKE per term, ANDed (a GIN index serves each; it cannot serve LIKE ALL of an array).
    const likes = patterns.map((_, i) => ` AND ${RECORD_TEXT} LIKE $${i + 3}`).join('');
    const rows = await this.query<{ key: string }>(
      `search the records of arm ${arm}`,
      `SELECT key FROM entries WHERE run_id = $1 AND arm = $2 AND kind = 'records'${likes}`,
      [this.ref.runId, arm, ...patterns],
    );
    return rows.map((r) => r.key);
  }

  /** Every entry of a kind for an arm in the order stored, in pages read by their sequence number (keyset paging). */
  async *scan<T>(arm: string, kind: StoreKind, pageSize = 1000): AsyncGenerator<T[]> {
    let after = '0';
    for (;;) {
      const rows = await this.query<{ seq: string; body: T }>(
        `scan ${kind} of arm ${arm}`,
        'SELECT seq::text AS seq, body FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3 AND seq > $4::bigint ORDER BY seq LIMIT $5',
        [this.ref.runId, arm, kind, after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map((r) => r.body);
      after = rows[rows.length - 1]!.seq;
      if (rows.length < pageSize) return;
    }
  }

  /** How many entries of a kind an arm has. */
  async count(arm: string, kind: StoreKind): Promise<number> {
    const rows = await this.query<{ n: string }>(`count ${kind} of arm ${arm}`, 'SELECT count(*) AS n FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3', [this.ref.runId, arm, kind]);
    return Number(rows[0]?.n ?? 0);
  }

  /** The entry under a key as far as this process has read (no I/O). */
  peek<T>(arm: string, kind: StoreKind, key: string): T | undefined {
    return this.indexes.get(`${arm}\u0000${kind}`)?.entries.get(key) as T | undefined;
  }

  /** The entry under a key: from the index, or one row read from the database. */
  async get<T>(arm: string, kind: StoreKind, key: string): Promise<T | undefined> {
    const idx = this.index(arm, kind);
    const cached = idx.entries.get(key);
    if (cached !== undefined) return cached as T;
    const rows = await this.query<{ body: T }>(
      `get ${kind} ${key} of arm ${arm}`,
      'SELECT body FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3 AND key = $4',
      [this.ref.runId, arm, kind, key],
    );
    if (!rows[0]) return undefined;
    remember(idx, key, rows[0].body);
    return (idx.entries.get(key) ?? rows[0].body) as T;
  }

  /** Inserts the entry unless its key is taken; returns the entry that is stored, the first, whoever wrote it. */
  async put<T extends { key: string }>(arm: string, kind: StoreKind, entry: T): Promise<T> {
    const idx = this.index(arm, kind);
    const known = idx.entries.get(entry.key);
    if (known !== undefined) return known as T;
    // This process tells its listeners itself; the notification of its row, which may come back before the
    // insert's answer, is not news to them.
    const echo = this.listening ? `${arm}${SEP}${kind}${SEP}${entry.key}` : undefined;
    if (echo) this.echoes.set(echo, (this.echoes.get(echo) ?? 0) + 1);
    let inserted: { seq: string }[];
    try {
      inserted = await this.query<{ seq: string }>(
        `put ${kind} ${entry.key} of arm ${arm}`,
        'INSERT INTO entries (run_id, arm, kind, key, body) VALUES ($1, $2, $3, $4, $5::json) ON CONFLICT DO NOTHING RETURNING seq',
        [this.ref.runId, arm, kind, entry.key, JSON.stringify(entry)],
      );
    } catch (e) {
      if (echo) this.unecho(echo);
      throw e;
    }
    if (inserted.length === 0) {
      if (echo) this.unecho(echo);
      // Another writer was first (or an earlier attempt of ours whose answer was lost): its entry stands.
      const winner = await this.query<{ body: T }>(
        `get ${kind} ${entry.key} of arm ${arm}`,
        'SELECT body FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3 AND key = $4',
        [this.ref.runId, arm, kind, entry.key],
      );
      const stored = winner[0]?.body ?? entry;
      remember(idx, entry.key, stored);
      return (idx.entries.get(entry.key) ?? stored) as T;
    }
    if (idx.entries.has(entry.key)) return idx.entries.get(entry.key) as T;
    remember(idx, entry.key, entry);
    for (const fn of this.listeners) fn(arm, kind, entry.key);
    return entry;
  }

  /** Every entry of a kind for an arm, in the order they were first stored. */
  async all<T>(arm: string, kind: StoreKind): Promise<T[]> {
    const rows = await this.query<{ body: T }>(
      `list ${kind} of arm ${arm}`,
      'SELECT body FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3 ORDER BY seq',
      [this.ref.runId, arm, kind],
    );
    return rows.map((r) => r.body);
  }

  /** The run's document, or undefined before prepareRun wrote it. */
  async readDocument(): Promise<RunDocument | undefined> {
    const rows = await this.query<{ body: RunDocument }>('read the run document', 'SELECT body FROM documents WHERE run_id = $1', [this.ref.runId]);
    return rows[0]?.body;
  }

  /** Writes the run's document in one statement: whole, replacing any earlier one. */
  async writeDocument(doc: RunDocument): Promise<void> {
    await this.query(
      'write the run document',
      `INSERT INTO documents (run_id, body) VALUES ($1, $2::json)
       ON CONFLICT (run_id) DO UPDATE SET body = EXCLUDED.body, updated_at = now()`,
      [this.ref.runId, JSON.stringify(doc)],
    );
    this.config = doc.config;
    this.rows = undefined;
  }

  /** The run's resolved config, from its document. */
  async runConfig(): Promise<RunConfig> {
    if (!this.config) {
      const doc = await this.readDocument();
      if (!doc) throw new MissingStoredInputError(`the run's config (run ${this.ref.runId} in the PostgreSQL store of ${this.ref.urlEnv})`);
      this.config = doc.config;
    }
    return this.config;
  }

  /** A dataset row of the run by prefix id. */
  async row(prefixId: string): Promise<DatasetRow> {
    if (!this.rows) this.rows = new Map(((await this.runConfig()).dataset.rows ?? []).map((r) => [r.id, r]));
    const r = this.rows.get(prefixId);
    if (!r) throw new MissingStoredInputError(`prefix ${prefixId} of the run's dataset`);
    return r;
  }

  /**
   * Copies an earlier run's entries of one arm and kind, whole rows; keys this run already has keep their entry.
   * In one statement when both runs are in this database, else entry by entry. Returns how many entries the
   * earlier run had there (as the file store counts the lines it copies, a repeated reuse counts them again).
   */
  async reuse(from: RunStore, arm: string, kind: StoreKind): Promise<number> {
    if (from instanceof PostgresRunStore && this.sameDatabase(from)) {
      const rows = await this.query<{ copied: string }>(
        `reuse ${kind} of arm ${arm} from run ${from.ref.runId}`,
        `WITH src AS (SELECT key, body, seq FROM entries WHERE run_id = $2 AND arm = $3 AND kind = $4),
         ins AS (
           INSERT INTO entries (run_id, arm, kind, key, body)
           SELECT $1, $3, $4, key, body FROM src ORDER BY seq
           ON CONFLICT DO NOTHING RETURNING 1
         )
         SELECT (SELECT count(*) FROM src)::text AS copied, (SELECT count(*) FROM ins) AS inserted`,
        [this.ref.runId, from.ref.runId, arm, kind],
      );
      return Number(rows[0]?.copied ?? 0);
    }
    const entries = await from.all<{ key: string }>(arm, kind);
    for (const e of entries) await this.put(arm, kind, e);
    return entries.length;
  }

  // Notifications of this process's own puts, not yet come back (they are not news to its listeners), by count.
  private readonly echoes = new Map<string, number>();

  private unecho(echo: string): boolean {
    const n = this.echoes.get(echo);
    if (n === undefined) return false;
    if (n <= 1) this.echoes.delete(echo);
    else this.echoes.set(echo, n - 1);
    return true;
  }
  private listener?: Client;
  private listening = false;
  private closed = false;
  private reconnectTimer?: NodeJS.Timeout;
  private reconnectDelay = 0;
  // Keys heard of but not yet read, by arm and kind: read together, a few at a time.
  private heard = new Map<string, { arm: string; kind: StoreKind; keys: Set<string> }>();
  private fetching = false;

  /**
   * Calls `fn` for every entry stored, until the returned function is called: at once for this process's puts,
   * and for other processes' (on any host) when their notification arrives, after reading the entry, so `peek`
   * and `get` see it. A dedicated connection listens from the first call until `close`, reconnecting if it drops;
   * whatever was stored while it was down is found by reading the kinds this process has read before.
   */
  onStored(fn: StoredListener): () => void {
    this.listeners.add(fn);
    this.closed = false;
    if (!this.listener && !this.reconnectTimer) this.connectListener();
    return () => {
      this.listeners.delete(fn);
    };
  }

  private connectListener(): void {
    let url: string;
    try {
      url = this.db.url;
    } catch {
      // No URL on this worker: puts and reads will say so; waiters fall back to priming.
      return;
    }
    const client = new Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: 10_000, application_name: 'thought-probe listener' });
    this.listener = client;
    const lost = () => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listening = false;
      this.echoes.clear();
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (this.closed) return;
      // Back off while the server is away, up to a few seconds.
      this.reconnectDelay = Math.min(5000, Math.max(100, this.reconnectDelay * 2));
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.closed) this.connectListener();
      }, this.reconnectDelay);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (msg) => {
      if (msg.channel === channelOf(this.ref.runId) && msg.payload) this.notified(msg.payload);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN "${channelOf(this.ref.runId)}"`))
      .then(() => {
        if (this.listener !== client) return;
        this.listening = true;
        this.reconnectDelay = 0;
        return this.catchUp();
      })
      .catch(lost);
  }

  /** After (re)connecting: what was stored while nobody listened is found by reading, and told. */
  private async catchUp(): Promise<void> {
    for (const [id, idx] of [...this.indexes]) {
      // Indexes read by key only are caught up by their waiters' own reads.
      if (!idx.primed) continue;
      const [arm, kind] = id.split('\u0000') as [string, StoreKind];
      const added = await this.refresh(arm, kind).catch(() => [] as string[]);
      for (const key of added) for (const fn of this.listeners) fn(arm, kind, key);
    }
  }

  private notified(payload: string): void {
    if (this.unecho(payload)) return;
    if (this.listeners.size === 0) return;
    const [arm, kind, key] = payload.split(SEP) as [string, StoreKind, string];
    if (key === undefined) return;
    const id = `${arm}\u0000${kind}`;
    let group = this.heard.get(id);
    if (!group) {
      group = { arm, kind, keys: new Set() };
      this.heard.set(id, group);
    }
    group.keys.add(key);
    if (!this.fetching) {
      this.fetching = true;
      // Let the notifications that arrived together gather, then read their entries in one query per kind.
      setImmediate(() => void this.readHeard());
    }
  }

  private async readHeard(): Promise<void> {
    try {
      while (this.heard.size > 0) {
        const groups = [...this.heard.values()];
        this.heard = new Map();
        for (const { arm, kind, keys } of groups) {
          const idx = this.index(arm, kind);
          // Only entries new to this process are news: one it put itself (its listeners were told then) or read
          // already may come back as a notification when the listener reconnected just before the put's commit.
          const missing = [...keys].filter((k) => !idx.entries.has(k));
          if (missing.length > 0) {
            let rows: { key: string; body: unknown }[];
            try {
              rows = await this.query<{ key: string; body: unknown }>(
                `read ${kind} of arm ${arm} that another process stored`,
                'SELECT key, body FROM entries WHERE run_id = $1 AND arm = $2 AND kind = $3 AND key = ANY($4::text[])',
                [this.ref.runId, arm, kind, missing],
              );
            } catch {
              // The database is away: waiters find these entries when they prime.
              continue;
            }
            for (const r of rows) remember(idx, r.key, r.body);
          }
          for (const key of missing) if (idx.entries.has(key)) for (const fn of this.listeners) fn(arm, kind, key);
        }
      }
    } finally {
      this.fetching = false;
    }
  }

  /** Ends the listening connection and drops the indexes; the pool stays for other stores (closePostgresPools). */
  close(): void {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const client = this.listener;
    this.listener = undefined;
    this.listening = false;
    if (client) {
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
    }
    this.echoes.clear();
    this.heard.clear();
    this.indexes.clear();
    this.config = undefined;
    this.rows = undefined;
  }
}
