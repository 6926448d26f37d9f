// Another process writing a run's store, for the conformance suite: `node -r tsx/cjs store-child.ts SPEC` with a
// JSON spec. A PostgreSQL store's URL comes from the environment variable its reference names, as on a worker.
//   put:   puts the entries (`wait: true`: after printing "ready", on a "go" line on stdin, all at once), then
//          prints one line of JSON {key: tag of the entry put returned} and exits;
//   crash: (PostgreSQL) inserts the entries in a transaction, prints "inserted", and SIGKILLs itself before COMMIT.
import { Client } from 'pg';
import { FileRunStore } from '../../src/store/file';
import { closePostgresPools, openPostgresStore } from '../../src/store/postgres';
import type { RunStore, StoreKind, StoreRef } from '../../src/store/types';

/** What a child process does. */
export interface ChildSpec {
  op: 'put' | 'crash';
  ref: StoreRef;
  arm: string;
  kind: StoreKind;
  entries: { key: string; tag: string }[];
  wait?: boolean;
}

function open(ref: StoreRef): RunStore {
  return ref.kind === 'file' ? new FileRunStore(ref.dir) : openPostgresStore(ref);
}

async function put(spec: ChildSpec): Promise<void> {
  const store = open(spec.ref);
  if (spec.wait) {
    // Connections opened before the start (a pool's ten), so both writers really start at once.
    await Promise.all(Array.from({ length: 10 }, () => store.get(spec.arm, spec.kind, 'warm-up')));
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => {
      let buf = '';
      process.stdin.on('data', (c: Buffer) => {
        buf += c.toString('utf8');
        if (buf.includes('go\n')) resolve();
      });
    });
  }
  const stored = await Promise.all(spec.entries.map((e) => store.put(spec.arm, spec.kind, e)));
  process.stdout.write(`${JSON.stringify(Object.fromEntries(stored.map((e) => [e.key, e.tag])))}\n`);
  store.close();
  await closePostgresPools();
}

async function crash(spec: ChildSpec): Promise<void> {
  if (spec.ref.kind !== 'postgres') throw new Error('crash is for a PostgreSQL store');
  const client = new Client({ connectionString: process.env[spec.ref.urlEnv] });
  await client.connect();
  await client.query('BEGIN');
  for (const e of spec.entries) {
    await client.query('INSERT INTO entries (run_id, arm, kind, key, body) VALUES ($1, $2, $3, $4, $5::json)', [spec.ref.runId, spec.arm, spec.kind, e.key, JSON.stringify(e)]);
  }
  process.stdout.write('inserted\n', () => process.kill(process.pid, 'SIGKILL'));
}

const spec = JSON.parse(process.argv[2]!) as ChildSpec;
(spec.op === 'crash' ? crash(spec) : put(spec)).catch((e: Error) => {
  process.stderr.write(`${e.stack ?? e.message}\n`);
  process.exit(1);
});
