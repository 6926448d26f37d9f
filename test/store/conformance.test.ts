// One suite, both backends: what every RunStore promises (first write wins, also across processes; torn writes
// ignored; wake-ups; documents; reuse), then what only the PostgreSQL store promises (migrations, notifications
// on any host, reconnection, and no secret in any error). Real files, a real PostgreSQL server, real processes.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { MissingStoreUrlError, MissingStoredInputError, StoreAccessDeniedError, StoreUnavailableError } from '../../src/errors';
import { datasetRef, FileDatasetStore, type DatasetStore } from '../../src/store/datasets';
import { FileRunStore } from '../../src/store/file';
import { migrate, MIGRATIONS, RECORD_TEXT_SQL, SCHEMA_VERSION } from '../../src/store/migrate';
import { closePostgresPools, openPostgresStore, postgresDatasets, postgresPool, PostgresRunStore } from '../../src/store/postgres';
import type { RunDocument, RunStore, StoreKind, StoreRef } from '../../src/store/types';
import { simConfig, tempDir } from '../helpers/configs';
import { usePostgres } from '../helpers/postgres';
import type { ChildSpec } from '../helpers/store-child';

const root = join(__dirname, '..', '..');
const URL_ENV = 'THOUGHT_PROBE_TEST_STORE_URL';

/** What the suite needs to know of a backend beyond the interface. */
interface Backend {
  name: 'file' | 'postgres';
  /** Registers the hooks that set it up for the file (a temp dir; a private cluster, migrated). */
  hooks(): void;
  /** A store of a run as a new process would open it: nothing read yet. */
  open(runId: string): RunStore;
  /** The reference another process opens the run's store by. */
  ref(runId: string): StoreRef;
  /** The environment of another process (the URL for PostgreSQL). */
  env(): NodeJS.ProcessEnv;
  /** Leaves a write that never completed: half a line (file), a transaction rolled back or cut off (PostgreSQL). */
  tornWrite(runId: string, arm: string, kind: StoreKind, entry: { key: string; tag: string }): Promise<void>;
  /** Whether put returns the entry another process stored first (the file store checks what this process read). */
  putSeesOtherWriters: boolean;
  /** Whether onStored fires for entries other processes store (else prime finds them). */
  remoteWakeups: boolean;
  /** The dataset store beside the runs. */
  datasets(): DatasetStore;
}

function fileBackend(): Backend {
  let dir = '';
  const runDir = (runId: string) => join(dir, runId);
  return {
    name: 'file',
    hooks: () => {
      beforeAll(() => {
        dir = tempDir('tp-store-');
      });
    },
    open: (runId) => new FileRunStore(runDir(runId)),
    ref: (runId) => ({ kind: 'file', dir: runDir(runId) }),
    env: () => process.env,
    tornWrite: async (runId, arm, kind, entry) => {
      const file = join(runDir(runId), 'store', arm, `${kind}.jsonl`);
      mkdirSync(join(runDir(runId), 'store', arm), { recursive: true });
      const line = JSON.stringify(entry);
      appendFileSync(file, line.slice(0, Math.floor(line.length / 2)));
    },
    putSeesOtherWriters: false,
    remoteWakeups: false,
    datasets: () => new FileDatasetStore(join(dir, 'datasets')),
  };
}

function postgresBackend(pg: ReturnType<typeof usePostgres>): Backend {
  const ref = (runId: string): StoreRef => ({ kind: 'postgres', urlEnv: URL_ENV, runId });
  return {
    name: 'postgres',
    hooks: () => {
      beforeAll(async () => {
        process.env[URL_ENV] = pg.url;
        await migrate(postgresPool(pg.url));
      });
      afterAll(async () => {
        await closePostgresPools();
        delete process.env[URL_ENV];
      });
    },
    open: (runId) => openPostgresStore(ref(runId) as StoreRef & { kind: 'postgres' }),
    ref,
    env: () => ({ ...process.env, [URL_ENV]: pg.url }),
    tornWrite: async (runId, arm, kind, entry) => {
      // A transaction that rolled back...
      const client = new Client({ connectionString: pg.url });
      await client.connect();
      await client.query('BEGIN');
      await client.query('INSERT INTO entries (run_id, arm, kind, key, body) VALUES ($1, $2, $3, $4, $5::json)', [runId, arm, kind, entry.key, JSON.stringify(entry)]);
      await client.query('ROLLBACK');
      await client.end();
      // ...and a writer killed in the middle of its transaction.
      const c = startChild({ op: 'crash', ref: ref(runId), arm, kind, entries: [{ key: `${entry.key}-killed`, tag: entry.tag }] }, { ...process.env, [URL_ENV]: pg.url });
      await c.exit;
      expect(c.output()).toContain('inserted');
    },
    putSeesOtherWriters: true,
    remoteWakeups: true,
    datasets: () => postgresDatasets(URL_ENV),
  };
}

interface Child {
  /** Resolves when the child printed "ready" (with `wait`). */
  ready: Promise<void>;
  go(): void;
  /** Resolves with the exit code (or signal) once it ended. */
  exit: Promise<number | string>;
  output(): string;
}

function startChild(spec: ChildSpec, env: NodeJS.ProcessEnv): Child {
  const proc = spawn(process.execPath, ['-r', 'tsx/cjs', join(root, 'test/helpers/store-child.ts'), JSON.stringify(spec)], {
    cwd: root,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
    if (out.includes('ready\n')) onReady();
  });
  proc.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exit = new Promise<number | string>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return { ready, go: () => proc.stdin.end('go\n'), exit, output: () => out };
}

/** The JSON line a `put` child printed last: key → tag of the entry its put returned. */
function childResult(c: Child): Record<string, string> {
  const lines = c.output().trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, string>;
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let runs = 0;
const newRun = (label: string) => `${label}-${++runs}-${process.pid}`;

// A text with what JSON and SQL must carry unchanged: quotes, newlines, a NUL, non-BMP characters, key order.
const tricky = { key: 'p1#0/thought', z: 1, a: 'line\nnext "quoted" \\ back\u0000nul ü 😀', n: 0.1 + 0.2, nested: { y: [1, 'two', null], b: true } };

// One private cluster for the file: the PostgreSQL backend's suite, then the PostgreSQL-only tests (the restart last).
const pg = usePostgres();

describe.each([fileBackend(), postgresBackend(pg)])('RunStore conformance: $name', (backend) => {
  backend.hooks();
  const opened: RunStore[] = [];
  const open = (runId: string) => {
    const s = backend.open(runId);
    opened.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });

  test('put, get, peek and all: the first write of a key wins, entries come back exactly as written', async () => {
    const run = newRun('basic');
    const s = open(run);
    expect(s.peek('arm1', 'thoughts', tricky.key)).toBeUndefined();
    expect(await s.get('arm1', 'thoughts', tricky.key)).toBeUndefined();
    expect(await s.all('arm1', 'thoughts')).toEqual([]);

    expect(await s.put('arm1', 'thoughts', tricky)).toEqual(tricky);
    const second = await s.put('arm1', 'thoughts', { key: tricky.key, z: 2 });
    expect(second).toEqual(tricky);
    await s.put('arm1', 'thoughts', { key: 'p2#0/thought', z: 3 });
    // Same key, another kind or arm: another entry.
    await s.put('arm1', 'suffixes', { key: tricky.key, z: 4 });
    await s.put('arm2', 'thoughts', { key: tricky.key, z: 5 });

    expect(s.peek('arm1', 'thoughts', tricky.key)).toEqual(tricky);
    expect(await s.get('arm1', 'thoughts', tricky.key)).toEqual(tricky);
    expect(await s.all('arm1', 'thoughts')).toEqual([tricky, { key: 'p2#0/thought', z: 3 }]);

    // A process that has read nothing: peek knows nothing until prime, get and all read the store.
    const fresh = open(run);
    expect(fresh.peek('arm1', 'thoughts', tricky.key)).toBeUndefined();
    expect(JSON.stringify(await fresh.get('arm1', 'thoughts', tricky.key))).toBe(JSON.stringify(tricky));
    const other = open(run);
    await other.prime('arm1', 'thoughts');
    expect(JSON.stringify(other.peek('arm1', 'thoughts', tricky.key))).toBe(JSON.stringify(tricky));
    expect(other.peek('arm1', 'thoughts', 'p2#0/thought')).toEqual({ key: 'p2#0/thought', z: 3 });
    expect(await other.all('arm1', 'suffixes')).toEqual([{ key: tricky.key, z: 4 }]);
    expect(await other.all('arm2', 'thoughts')).toEqual([{ key: tricky.key, z: 5 }]);
    expect(await other.all('arm1', 'records')).toEqual([]);
    // The later write of a key, from another process's view, still loses.
    expect(await other.put('arm1', 'thoughts', { key: tricky.key, z: 6 })).toEqual(tricky);
    // Another run's store is another store.
    expect(await open(newRun('elsewhere')).all('arm1', 'thoughts')).toEqual([]);
  });

  test('two processes writing the same keys at once leave exactly one entry per key, the first', async () => {
    const run = newRun('race');
    const keys = Array.from({ length: 300 }, (_, i) => `p${i}#0/ab`);
    // A from the first key, B from the last: they meet in the middle, so each wins some keys and both write
    // the keys around the meeting point at the same moment.
    const children = [
      { tag: 'A', order: keys },
      { tag: 'B', order: [...keys].reverse() },
    ].map(({ tag, order }) =>
      startChild({ op: 'put', ref: backend.ref(run), arm: 'arm1', kind: 'suffixes', entries: order.map((key) => ({ key, tag })), wait: true }, backend.env()),
    );
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.go();
    const codes = await Promise.all(children.map((c) => c.exit));
    expect(codes).toEqual([0, 0]);

    const stored = await open(run).all<{ key: string; tag: string }>('arm1', 'suffixes');
    expect(stored).toHaveLength(keys.length);
    expect(new Set(stored.map((e) => e.key))).toEqual(new Set(keys));
    const winner = new Map(stored.map((e) => [e.key, e.tag]));
    // Every reader agrees on the winner.
    const again = open(run);
    await again.prime('arm1', 'suffixes');
    for (const key of keys) expect(again.peek<{ tag: string }>('arm1', 'suffixes', key)?.tag).toBe(winner.get(key));
    if (backend.putSeesOtherWriters) {
      // Each writer was told which entry won, its own or the other's; and the race was real: each won some.
      for (const c of children) expect(childResult(c)).toEqual(Object.fromEntries(winner));
      expect(new Set(winner.values())).toEqual(new Set(['A', 'B']));
    }
    if (backend.name === 'file') {
      // The winner is the first line of its key in the file.
      const first = new Map<string, string>();
      for (const line of readFileSync(join((backend.ref(run) as { dir: string }).dir, 'store', 'arm1', 'suffixes.jsonl'), 'utf8').split('\n')) {
        if (!line) continue;
        const e = JSON.parse(line) as { key: string; tag: string };
        if (!first.has(e.key)) first.set(e.key, e.tag);
      }
      expect(first).toEqual(winner);
    }
  });

  test('load reads the entries under the keys given, whoever stored them, so peek sees them', async () => {
    const run = newRun('load');
    const writer = open(run);
    for (let i = 0; i < 5; i++) await writer.put('arm1', 'suffixes', { key: `p${i}#0/blank`, i });
    const reader = open(run);
    expect(reader.peek('arm1', 'suffixes', 'p1#0/blank')).toBeUndefined();
    await reader.load('arm1', 'suffixes', ['p1#0/blank', 'p3#0/blank', 'nowhere']);
    expect(reader.peek('arm1', 'suffixes', 'p1#0/blank')).toEqual({ key: 'p1#0/blank', i: 1 });
    expect(reader.peek('arm1', 'suffixes', 'p3#0/blank')).toEqual({ key: 'p3#0/blank', i: 3 });
    expect(reader.peek('arm1', 'suffixes', 'nowhere')).toBeUndefined();
    await reader.load('arm1', 'suffixes', []);
  });

  test('lookup reads the entries under its keys, count counts each key once, searchRecords finds records by their first texts', async () => {
    const run = newRun('lookup');
    const w = open(run);
    const key = (i: number) => `p${i}/0/normal_model_thought`;
    for (let i = 0; i < 50; i++) {
      await w.put('arm1', 'records', { key: key(i), thought: i % 5 === 0 ? 'The quick "brown" fox' : 'slow', suffix: i % 7 === 0 ? 'jumps over' : 'x', i });
    }
    // A later write of a key loses, its texts too.
    await w.put('arm1', 'records', { key: key(1), thought: 'quick', suffix: 'over', i: -1 });
    await w.put('arm2', 'records', { key: key(0), thought: 'quick', suffix: 'over', i: 0 });
    const r = open(run);
    expect(await r.count('arm1', 'records')).toBe(50);
    expect(await r.count('arm1', 'thoughts')).toBe(0);
    const got = await r.lookup<{ i: number }>('arm1', 'records', [key(3), key(1), 'p99/0/normal_model_thought']);
    expect([...got.keys()].sort()).toEqual([key(1), key(3)]);
    expect(got.get(key(1))!.i).toBe(1);
    const found = async (terms: string[]) => (await r.searchRecords('arm1', terms)).sort();
    const expected = (f: (i: number) => boolean) => Array.from({ length: 50 }, (_, i) => i).filter(f).map(key).sort();
    expect(await found(['quick'])).toEqual(expected((i) => i % 5 === 0));
    expect(await found(['quick', 'over'])).toEqual(expected((i) => i % 35 === 0));
    // Terms JSON escapes, and parts of words.
    expect(await found(['"brown"'])).toEqual(expected((i) => i % 5 === 0));
    expect(await found(['ump'])).toEqual(expected((i) => i % 7 === 0));
    expect(await found(['nowhere'])).toEqual([]);
    // LIKE's own wildcards are plain characters in a term.
    expect(await found(['%'])).toEqual([]);
    expect(await found(['q_ick'])).toEqual([]);
  });

  test('a torn write is ignored', async () => {
    const run = newRun('torn');
    const s = open(run);
    await s.put('arm1', 'records', { key: 'before', tag: 'whole' });
    await backend.tornWrite(run, 'arm1', 'records', { key: 'torn', tag: 'half' });
    const reader = open(run);
    expect(await reader.get('arm1', 'records', 'torn')).toBeUndefined();
    expect(await reader.all('arm1', 'records')).toEqual([{ key: 'before', tag: 'whole' }]);
    await s.prime('arm1', 'records');
    expect(s.peek('arm1', 'records', 'torn')).toBeUndefined();
  });

  // Were the next line appended right after a torn one, the two would fuse into one unreadable line and the first
  // entry written after a crash mid-write would be lost to every reader: the file store ends a torn tail first.
  test('entries written after a torn write are read, the torn one redone', async () => {
    const run = newRun('torn-after');
    await open(run).put('arm1', 'records', { key: 'before', tag: 'whole' });
    await backend.tornWrite(run, 'arm1', 'records', { key: 'torn', tag: 'half' });
    // Another process (a retry of the activity) writes the torn entry again, and then another.
    const writer = open(run);
    await writer.prime('arm1', 'records');
    expect(await writer.put('arm1', 'records', { key: 'torn', tag: 'redone' })).toEqual({ key: 'torn', tag: 'redone' });
    await writer.put('arm1', 'records', { key: 'after', tag: 'whole' });
    const later = open(run);
    expect(await later.get('arm1', 'records', 'torn')).toEqual({ key: 'torn', tag: 'redone' });
    expect((await later.all<{ key: string }>('arm1', 'records')).map((e) => e.key).sort()).toEqual(['after', 'before', 'torn']);
  });

  test('wake-ups: onStored fires at once for puts here, and other processes\' puts are found (told, where the backend can)', async () => {
    const run = newRun('wake');
    const s = open(run);
    // As a waiting judge batch does: look first, then listen.
    await s.prime('arm1', 'suffixes');
    const heard: string[] = [];
    const stop = s.onStored((arm, kind, key) => heard.push(`${arm}/${kind}/${key}`));
    // Give a listening connection the time to start (a backend may tell of later puts only).
    await new Promise((r) => setTimeout(r, 300));

    await s.put('arm1', 'suffixes', { key: 'here', tag: 'local' });
    expect(heard).toEqual(['arm1/suffixes/here']);

    const c = startChild({ op: 'put', ref: backend.ref(run), arm: 'arm1', kind: 'suffixes', entries: [{ key: 'there', tag: 'remote' }] }, backend.env());
    expect(await c.exit).toBe(0);
    if (backend.remoteWakeups) {
      await eventually(() => heard.includes('arm1/suffixes/there'));
      // Told only once it can be read here, without a prime.
      expect(s.peek('arm1', 'suffixes', 'there')).toEqual({ key: 'there', tag: 'remote' });
    } else {
      await s.prime('arm1', 'suffixes');
      expect(s.peek('arm1', 'suffixes', 'there')).toEqual({ key: 'there', tag: 'remote' });
    }
    expect(await s.get('arm1', 'suffixes', 'there')).toEqual({ key: 'there', tag: 'remote' });
    // Each entry told once (this process's own put is not told again when its notification comes back).
    await new Promise((r) => setTimeout(r, 300));
    expect(heard.filter((h) => h === 'arm1/suffixes/here')).toHaveLength(1);
    expect(heard.filter((h) => h === 'arm1/suffixes/there').length).toBeLessThanOrEqual(1);

    stop();
    await s.put('arm1', 'suffixes', { key: 'unheard', tag: 'local' });
    const c2 = startChild({ op: 'put', ref: backend.ref(run), arm: 'arm1', kind: 'suffixes', entries: [{ key: 'unheard-there', tag: 'remote' }] }, backend.env());
    expect(await c2.exit).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect(heard.some((h) => h.includes('unheard'))).toBe(false);
  });

  test('documents round-trip whole; runConfig and row read them', async () => {
    const run = newRun('doc');
    const s = open(run);
    expect(await s.readDocument()).toBeUndefined();
    await expect(s.runConfig()).rejects.toBeInstanceOf(MissingStoredInputError);
    const config = simConfig('http://127.0.0.1:9/v1');
    const doc: RunDocument = { runId: run, configHash: 'sha256:abc', resumedFrom: ['old-1'], reused: { think_base: { thoughts: 3, suffixes: 2, records: 1 } }, config };
    await s.writeDocument(doc);
    expect(await s.readDocument()).toEqual(doc);
    const fresh = open(run);
    expect(await fresh.readDocument()).toEqual(doc);
    expect(await fresh.runConfig()).toEqual(config);
    const row = config.dataset.rows![1]!;
    expect(await fresh.row(row.id)).toEqual(row);
    await expect(fresh.row('no-such-prefix')).rejects.toBeInstanceOf(MissingStoredInputError);
    // A second write replaces the whole document.
    const doc2: RunDocument = { ...doc, configHash: 'sha256:def', resumedFrom: [], reused: {} };
    await s.writeDocument(doc2);
    expect(await open(run).readDocument()).toEqual(doc2);
  });

  test('datasets: rows put once under the hash of their content, read back by it', async () => {
    const rows = simConfig('http://127.0.0.1:9/v1').dataset.rows!;
    const datasets = backend.datasets();
    const ref = await datasets.put(rows);
    expect(ref).toBe(datasetRef(rows));
    expect(ref).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(await datasets.put(rows)).toBe(ref);
    expect(await backend.datasets().get(ref)).toEqual(rows);
    expect(await backend.datasets().get(datasetRef(rows.slice(1)))).toBeUndefined();
  });

  test('reuse copies whole entries of an arm and kind from an earlier run, and counts them', async () => {
    const old = newRun('old');
    const before = open(old);
    const thoughts = [{ key: 't1', tag: 'old' }, tricky, { key: 't3', tag: 'old' }];
    for (const t of thoughts) await before.put('arm1', 'thoughts', t);
    await before.put('arm1', 'records', { key: 'r1', tag: 'old' });
    await before.put('arm2', 'thoughts', { key: 'other-arm', tag: 'old' });
    await backend.tornWrite(old, 'arm1', 'thoughts', { key: 'torn', tag: 'half' });

    const run = newRun('new');
    const s = open(run);
    expect(await s.reuse(open(old), 'arm1', 'thoughts')).toBe(3);
    expect(await s.reuse(open(old), 'arm1', 'suffixes')).toBe(0);
    const fresh = open(run);
    expect((await fresh.all('arm1', 'thoughts')).map((e) => JSON.stringify(e))).toEqual(thoughts.map((e) => JSON.stringify(e)));
    expect(await fresh.all('arm1', 'records')).toEqual([]);
    expect(await fresh.all('arm2', 'thoughts')).toEqual([]);
    expect(await fresh.get('arm1', 'thoughts', 'torn')).toBeUndefined();
    // The reused entries are the new run's: first write wins over them as over any.
    expect(await fresh.put('arm1', 'thoughts', { key: 't1', tag: 'new' })).toEqual({ key: 't1', tag: 'old' });
    // The earlier run is unchanged.
    expect(await open(old).all('arm1', 'thoughts')).toHaveLength(3);
  });
});

test('the file store holds where every key is and a window of entries, not every entry, and reads the rest again', async () => {
  const dir = join(tempDir('tp-store-held-'), 'run');
  const w = new FileRunStore(dir);
  for (let i = 0; i < 6000; i++) await w.put('arm1', 'records', { key: `k${i}`, text: 'x'.repeat(200), i });
  w.close();
  const r = new FileRunStore(dir);
  await r.prime('arm1', 'records');
  expect(r.held()).toMatchObject({ keys: 6000 });
  expect(r.held().entries).toBeLessThanOrEqual(2048);
  expect(r.peek('arm1', 'records', 'k0')).toEqual({ key: 'k0', text: 'x'.repeat(200), i: 0 });
  expect((await r.all<{ i: number }>('arm1', 'records')).map((e) => e.i)).toEqual(Array.from({ length: 6000 }, (_, i) => i));
  expect(await r.put('arm1', 'records', { key: 'k1', text: 'later', i: -1 })).toEqual({ key: 'k1', text: 'x'.repeat(200), i: 1 });
  r.close();
});

test('the file store: a torn line that happens to end in a brace is dropped when read, and the key\'s next whole line stands', async () => {
  const dir = join(tempDir('tp-store-torn-'), 'run');
  const file = join(dir, 'store', 'arm1', 'records.jsonl');
  mkdirSync(join(dir, 'store', 'arm1'), { recursive: true });
  // Cut after an inner object: closed by a brace, but not JSON. The appender ends it with a newline before writing on.
  appendFileSync(file, `${JSON.stringify({ key: 'a', i: 1 })}\n{"key":"t","inner":{"x":1}\n${JSON.stringify({ key: 't', i: 2 })}\n`);
  const r = new FileRunStore(dir);
  expect(await r.get('arm1', 'records', 't')).toEqual({ key: 't', i: 2 });
  expect(await r.count('arm1', 'records')).toBe(2);
  const fresh = new FileRunStore(dir);
  expect([...(await fresh.lookup('arm1', 'records', ['t', 'a'])).values()]).toEqual([{ key: 'a', i: 1 }, { key: 't', i: 2 }]);
  const scanned = new FileRunStore(dir);
  expect(await scanned.all('arm1', 'records')).toEqual([{ key: 'a', i: 1 }, { key: 't', i: 2 }]);
  for (const s of [r, fresh, scanned]) s.close();
});

describe('PostgreSQL store', () => {
  const ref = (runId: string) => ({ kind: 'postgres' as const, urlEnv: URL_ENV, runId });
  const opened: RunStore[] = [];
  const open = (runId: string, options: { url?: string; env?: NodeJS.ProcessEnv; indexCap?: number } = {}) => {
    const s = new PostgresRunStore(ref(runId), { url: pg.url, ...options });
    opened.push(s);
    return s;
  };
  beforeAll(async () => {
    await migrate(postgresPool(pg.url));
  });
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
  });
  afterAll(async () => {
    await closePostgresPools();
  });

  test('a second migrate is a no-op, and migrators starting at once apply each migration once', async () => {
    expect(await migrate(postgresPool(pg.url))).toEqual({ applied: [], version: SCHEMA_VERSION });
    const url = await pg.cluster.createDatabase('migrate_race');
    const pools = Array.from({ length: 4 }, () => new Pool({ connectionString: url }));
    try {
      const results = await Promise.all(pools.map((p) => migrate(p)));
      expect(results.flatMap((r) => r.applied).sort()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(results.every((r) => r.version === SCHEMA_VERSION)).toBe(true);
      const rows = (await pools[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows;
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  test('migration 3 indexes the records\' text with pg_trgm, and a search of records is answered through that index', async () => {
    const pool = postgresPool(pg.url);
    const idx = await pool.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'entries_record_text'");
    expect(idx.rows[0]?.indexdef).toMatch(/gin_trgm_ops/);
    // 20,000 records of one arm with thoughts of some length (a table of many pages), one of which holds the term:
    // the planner goes to the trigram index for it.
    const run = newRun('trgm');
    await pool.query(
      `INSERT INTO entries (run_id, arm, kind, key, body) SELECT $1, 'arm1', 'records', 'p' || i || '/0/normal_model_thought',
         json_build_object('thought', CASE WHEN i = 777 THEN 'a zebrafish swam' ELSE repeat('thought number ' || i || ' ', 40) END, 'suffix', 'suffix ' || i)
       FROM generate_series(1, 20000) AS i`,
      [run],
    );
    await pool.query('ANALYZE entries');
    const plan = await pool.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT key FROM entries WHERE run_id = $1 AND arm = 'arm1' AND kind = 'records' AND ${RECORD_TEXT_SQL} LIKE '%zebrafish%'`,
      [run],
    );
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('entries_record_text');
    const store = open(run);
    expect(await store.searchRecords('arm1', ['zebrafish'])).toEqual(['p777/0/normal_model_thought']);
  });

  test('a worker holds what its batches read, not the run: load reads only its keys, and the index forgets the oldest beyond its cap', async () => {
    const run = newRun('cap');
    const writer = open(run);
    for (let i = 0; i < 25; i++) await writer.put('arm1', 'records', { key: `k${i}`, i });
    const reader = open(run, { indexCap: 10 });
    await reader.load('arm1', 'records', ['k0', 'k1', 'k2']);
    expect([0, 1, 2, 3].map((i) => reader.peek('arm1', 'records', `k${i}`) !== undefined)).toEqual([true, true, true, false]);
    await reader.load('arm1', 'records', Array.from({ length: 25 }, (_, i) => `k${i}`));
    const kept = Array.from({ length: 25 }, (_, i) => i).filter((i) => reader.peek('arm1', 'records', `k${i}`) !== undefined);
    // The ten read last stay; a forgotten entry is read again when asked for, and a later write still loses.
    expect(kept).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(await reader.get('arm1', 'records', 'k0')).toEqual({ key: 'k0', i: 0 });
    expect(await reader.put('arm1', 'records', { key: 'k1', i: -1 })).toEqual({ key: 'k1', i: 1 });
  });

  test('prime finds a row whose transaction began first but committed after a later one was read', async () => {
    const run = newRun('order');
    const reader = open(run);
    await reader.prime('arm1', 'suffixes');
    const slow = new Client({ connectionString: pg.url });
    await slow.connect();
    try {
      await slow.query('BEGIN');
      await slow.query("INSERT INTO entries (run_id, arm, kind, key, body) VALUES ($1, 'arm1', 'suffixes', 'slow', '{\"key\":\"slow\"}')", [run]);
      await open(run).put('arm1', 'suffixes', { key: 'fast' });
      await reader.prime('arm1', 'suffixes');
      expect(reader.peek('arm1', 'suffixes', 'fast')).toEqual({ key: 'fast' });
      expect(reader.peek('arm1', 'suffixes', 'slow')).toBeUndefined();
      await slow.query('COMMIT');
    } finally {
      await slow.end();
    }
    await reader.prime('arm1', 'suffixes');
    expect(reader.peek('arm1', 'suffixes', 'slow')).toEqual({ key: 'slow' });
  });

  test('reuse across databases and from a file store copies entry by entry', async () => {
    const fileStore = new FileRunStore(join(tempDir('tp-reuse-'), 'old'));
    await fileStore.put('arm1', 'thoughts', { key: 'a', tag: 'file' });
    await fileStore.put('arm1', 'thoughts', { key: 'b', tag: 'file' });
    const otherUrl = await pg.cluster.createDatabase('reuse_other');
    await migrate(postgresPool(otherUrl));
    const elsewhere = open('old-elsewhere', { url: otherUrl });
    await elsewhere.put('arm1', 'records', { key: 'r', tag: 'elsewhere' });

    const s = open(newRun('reuse'));
    expect(await s.reuse(fileStore, 'arm1', 'thoughts')).toBe(2);
    expect(await s.reuse(elsewhere, 'arm1', 'records')).toBe(1);
    expect(await s.all('arm1', 'thoughts')).toEqual([{ key: 'a', tag: 'file' }, { key: 'b', tag: 'file' }]);
    expect(await s.all('arm1', 'records')).toEqual([{ key: 'r', tag: 'elsewhere' }]);
  });

  test('after the server restarts, puts and reads go on and the listener hears other processes again', async () => {
    const run = newRun('restart');
    const s = open(run);
    await s.prime('arm1', 'suffixes');
    const heard: string[] = [];
    s.onStored((_arm, _kind, key) => heard.push(key));
    await s.put('arm1', 'suffixes', { key: 'before' });
    await pg.cluster.restart();
    // The pool's connections were cut: the store reconnects (retrying a moment) instead of failing.
    await s.put('arm1', 'suffixes', { key: 'after' });
    expect(await open(run).get('arm1', 'suffixes', 'after')).toEqual({ key: 'after' });
    const c = startChild({ op: 'put', ref: ref(run), arm: 'arm1', kind: 'suffixes', entries: [{ key: 'remote-after', tag: 'x' }] }, { ...process.env, [URL_ENV]: pg.url });
    expect(await c.exit).toBe(0);
    await eventually(() => heard.includes('remote-after'));
    expect(heard.filter((k) => k === 'before' || k === 'after')).toEqual(['before', 'after']);
  });

  describe('secrets', () => {
    const leaks = (text: string) => [pg.url, pg.cluster.password, encodeURIComponent(pg.cluster.password)].filter((s) => text.includes(s));
    const failureOf = async (p: Promise<unknown>): Promise<Error> => {
      try {
        await p;
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a failure');
    };
    const everything = (e: Error) => `${e.message}\n${e.stack}\n${JSON.stringify(e)}\n${String((e as { cause?: unknown }).cause ?? '')}`;

    test('connection refused: a StoreUnavailableError naming the variable, never the URL or password', async () => {
      const refused = pg.url.replace(`:${pg.cluster.port}/`, ':1/');
      const e = await failureOf(open(newRun('refused'), { url: refused }).put('arm1', 'thoughts', { key: 'k' }));
      expect(e).toBeInstanceOf(StoreUnavailableError);
      expect(e.message).toContain(URL_ENV);
      expect(e.message).toMatch(/ECONNREFUSED/);
      expect(leaks(everything(e))).toEqual([]);
      expect(everything(e)).not.toContain(refused);
    }, 30_000);

    test('a wrong password: the error says so, without either password', async () => {
      const wrong = pg.url.replace(encodeURIComponent(pg.cluster.password), encodeURIComponent('not-the-password-42'));
      const e = await failureOf(open(newRun('badpw'), { url: wrong }).readDocument());
      // A wrong URL is not an outage: fatal at once, naming the variable.
      expect(e).toBeInstanceOf(StoreAccessDeniedError);
      expect((e as StoreAccessDeniedError).retryable).toBe(false);
      expect(e.message).toContain(URL_ENV);
      expect(e.message).toMatch(/password authentication failed/);
      expect(leaks(everything(e))).toEqual([]);
      expect(everything(e)).not.toContain('not-the-password-42');
    });

    test('a database that does not exist: fatal, naming the variable and the fix', async () => {
      const missing = pg.url.replace(/\/[^/?]+(\?|$)/, '/no_such_database$1');
      const e = await failureOf(open(newRun('nodb'), { url: missing }).readDocument());
      expect(e).toBeInstanceOf(StoreAccessDeniedError);
      expect((e as StoreAccessDeniedError).retryable).toBe(false);
      expect(e.message).toMatch(/no_such_database/);
      expect(e.message).toMatch(/create the database/);
      expect(leaks(everything(e))).toEqual([]);
    });

    test('the variable unset on this worker: the error names it, and no retry can fix it', async () => {
      const s = new PostgresRunStore(ref(newRun('unset')), { env: {} });
      opened.push(s);
      const e = await failureOf(s.get('arm1', 'thoughts', 'k'));
      // Like a missing API key: fatal to the run at once, never retried as if the database were down.
      expect(e).toBeInstanceOf(MissingStoreUrlError);
      expect((e as MissingStoreUrlError).retryable).toBe(false);
      expect(e.message).toContain(`${URL_ENV} is not set`);
    });

    test('thought-probe store migrate: exit 2 naming the variable when unset; migrates, then nothing to do; never prints the URL', async () => {
      const cli = (env: NodeJS.ProcessEnv, ...args: string[]) =>
        new Promise<{ code: number; out: string }>((resolve) => {
          const p = spawn(process.execPath, ['-r', 'tsx/cjs', join(root, 'src/cli/main.ts'), 'store', 'migrate', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          p.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
          p.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
          p.once('exit', (code) => resolve({ code: code ?? -1, out }));
        });
      const base = { ...process.env };
      delete base.THOUGHT_PROBE_DATABASE_URL;
      const unset = await cli(base);
      expect(unset.code).toBe(2);
      expect(unset.out).toContain('THOUGHT_PROBE_DATABASE_URL is not set');

      const url = await pg.cluster.createDatabase('cli_migrate');
      const first = await cli({ ...base, MY_STORE_URL: url }, '--url-env', 'MY_STORE_URL');
      expect(first).toMatchObject({ code: 0 });
      expect(first.out).toContain(`migrated to version ${SCHEMA_VERSION}`);
      const second = await cli({ ...base, THOUGHT_PROBE_DATABASE_URL: url });
      expect(second).toMatchObject({ code: 0 });
      expect(second.out).toContain('nothing to do');
      const wrong = await cli({ ...base, THOUGHT_PROBE_DATABASE_URL: url.replace(encodeURIComponent(pg.cluster.password), 'wrong-pw-77') });
      expect(wrong.code).toBe(1);
      expect(wrong.out).toMatch(/password authentication failed/);
      for (const r of [first, second, wrong]) {
        expect(leaks(r.out)).toEqual([]);
        expect(r.out).not.toContain(url);
        expect(r.out).not.toContain('wrong-pw-77');
      }
    }, 60_000);
  });
});
