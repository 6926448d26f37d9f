// A private PostgreSQL cluster per test file: initdb and pg_ctl in a temporary directory, on a free port of the
// loopback, with a password (so tests can check it never leaks), as an unprivileged user when we are root
// (postgres refuses to run as root). No mocked database.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** Where Debian's PostgreSQL 15 puts its server binaries (THOUGHT_PROBE_PG_BIN overrides). */
export const PG_BIN = process.env.THOUGHT_PROBE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** A running private cluster. */
export interface PostgresCluster {
  /** `postgres://` URL of the test database (with its user and password). */
  url: string;
  port: number;
  password: string;
  /** The data directory's parent (log, socket), removed by stop. */
  dir: string;
  /** A URL of another new, empty database on the same server. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection is cut, the server is back when this resolves. */
  restart(): Promise<void>;
  /** Stops the server (fast) and removes its directory. */
  stop(): Promise<void>;
  /** The server log so far, for failure messages. */
  log(): string;
}

interface RunAs {
  uid: number;
  gid: number;
  user: string;
}

// Postgres refuses root: as root, the cluster belongs to the `postgres` user Debian's package creates, or nobody.
function unprivilegedUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const id = (flag: string) => Number(execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      return { uid: id('-u'), gid: id('-g'), user };
    } catch {
      // No such user: try the next.
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run the test PostgreSQL as');
}

function run(runAs: RunAs | undefined, bin: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<string> {
  const [file, argv] = runAs ? ['runuser', ['-u', runAs.user, '--', join(PG_BIN, bin), ...args]] : [join(PG_BIN, bin), args];
  return new Promise((resolve, reject) => {
    execFile(file, argv, { cwd, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Fails with the fix when the PostgreSQL server binaries are not installed. */
export function requirePostgresBinaries(): void {
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    if (!existsSync(join(PG_BIN, bin))) {
      throw new Error(
        `PostgreSQL server binaries are missing (${join(PG_BIN, bin)}): the store tests need Debian's postgresql package (PostgreSQL 15). ` +
          '`.ci/run` and `npm test` install it with apt (bash infra/ensure-postgres.sh); or run as root: apt-get install -y postgresql',
      );
    }
  }
}

const live = new Set<PostgresCluster>();
// A test process that dies without afterAll still stops its servers.
process.once('exit', () => {
  for (const c of live) {
    try {
      const data = join(c.dir, 'data');
      const user = unprivilegedUser();
      const argv = ['-D', data, '-m', 'immediate', 'stop'];
      if (user) execFileSync('runuser', ['-u', user.user, '--', join(PG_BIN, 'pg_ctl'), ...argv], { stdio: 'ignore', cwd: c.dir });
      else execFileSync(join(PG_BIN, 'pg_ctl'), argv, { stdio: 'ignore', cwd: c.dir });
      rmSync(c.dir, { recursive: true, force: true });
    } catch {
      // Best effort at exit.
    }
  }
});

/** Starts a private cluster with a test database `thought_probe` (user `thought_probe`, a random password). */
export async function startPostgres(): Promise<PostgresCluster> {
  requirePostgresBinaries();
  const runAs = unprivilegedUser();
  const dir = mkdtempSync(join(tmpdir(), 'thought-probe-pg-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  // A password with characters a URL must escape (so it differs from its encoded form), unique enough that a
  // test finding it in a message knows it leaked.
  const password = `pw/${randomBytes(9).toString('hex')}@secret`;
  writeFileSync(join(dir, 'pwfile'), `${password}\n`);
  chmodSync(join(dir, 'pwfile'), 0o600);
  chmodSync(dir, 0o700);
  if (runAs) {
    chownSync(dir, runAs.uid, runAs.gid);
    chownSync(join(dir, 'pwfile'), runAs.uid, runAs.gid);
  }
  const user = 'thought_probe';
  await run(runAs, 'initdb', ['-D', data, '-U', user, `--pwfile=${join(dir, 'pwfile')}`, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], dir);
  rmSync(join(dir, 'pwfile'));
  let port = 0;
  let lastError: unknown;
  // A free port can be taken between our probe and the server's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await freePort();
    // Durability settings off: test clusters are thrown away (a fast restart still checkpoints everything).
    const opts = `-p ${port} -h 127.0.0.1 -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    try {
      await run(runAs, 'pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-o', opts, 'start'], dir);
      lastError = undefined;
      break;
    } catch (e) {
      lastError = e;
    }
  }
  const readLog = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  if (lastError) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${(lastError as Error).message}\n${readLog()}`);
  }
  const base = `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const createDatabase = async (name: string): Promise<string> => {
    const admin = new Client({ connectionString: `${base}/postgres` });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } finally {
      await admin.end();
    }
    return `${base}/${encodeURIComponent(name)}`;
  };
  const cluster: PostgresCluster = {
    url: '',
    port,
    password,
    dir,
    createDatabase,
    restart: async () => {
      await run(runAs, 'pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '60', '-m', 'fast', 'restart'], dir);
    },
    stop: async () => {
      live.delete(cluster);
      await run(runAs, 'pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop'], dir).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
    log: readLog,
  };
  live.add(cluster);
  try {
    cluster.url = await createDatabase('thought_probe');
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

/**
 * One cluster for the test file: started in beforeAll, stopped and removed in afterAll. Read `.cluster` (or
 * `.url`) inside tests and hooks, not at module load.
 */
export function usePostgres(): { readonly cluster: PostgresCluster; readonly url: string } {
  let cluster: PostgresCluster | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);
  const get = () => {
    if (!cluster) throw new Error('the test PostgreSQL is not started (usePostgres() at the top of a describe, and read it in tests)');
    return cluster;
  };
  return {
    get cluster() {
      return get();
    },
    get url() {
      return get().url;
    },
  };
}
