// A Temporal cluster for one test file, started by the project's own script (infra/temporal/cluster.sh) as a user
// starts one: four server processes on a private PostgreSQL, in a temporary state folder, on free ports. Services
// can be SIGKILLed and started again one by one, and the PostgreSQL restarted under them.
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './configs';

const root = join(__dirname, '..', '..');
const script = join(root, 'infra/temporal/cluster.sh');

/** The four services of the cluster, each its own process. */
export type ClusterService = 'frontend' | 'history' | 'matching' | 'worker';

/** A running cluster. */
export interface TemporalCluster {
  /** The frontend's gRPC address, `127.0.0.1:<port>`. */
  address: string;
  /** The run store's database on the cluster's PostgreSQL (URL with user and password). */
  storeUrl: string;
  /** The same server's `temporal` database, where the cluster keeps its workflows. */
  temporalDbUrl: string;
  /** The PostgreSQL password, so a test can check it never leaks. */
  password: string;
  /** The state folder (pids, logs, the database). */
  dir: string;
  /** The pid of a service's process. */
  pid(service: ClusterService): number;
  /** SIGKILLs a service and resolves once its process is gone. */
  kill(service: ClusterService): Promise<void>;
  /** Starts a stopped service again through the script (which waits until the namespace is usable). */
  start(service: ClusterService): Promise<void>;
  /** `cluster.sh restart-postgres`: a fast restart that cuts every connection of Temporal and of the store. */
  restartPostgres(): Promise<void>;
  /** Stops everything and removes the state folder. */
  stop(): Promise<void>;
  /** The last lines of a service's log, for failure messages. */
  log(service: ClusterService): string;
}

function sh(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { cwd: root, env, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`cluster.sh ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// cluster.sh's layout: frontend P, history +1, matching +2, worker +6, HTTP +10, membership -300, metrics +2000.
const OFFSETS = [0, 1, 2, 6, 10, -300, -299, -298, -294, 2000, 2001, 2002, 2006];

/** A frontend port whose whole block of cluster ports is free, and a free port for PostgreSQL. */
async function freePorts(): Promise<{ port: number; pgPort: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // Membership ports (P - 300) must stay under 32768: Temporal stores them as SMALLINT.
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const pgPort = port + 3000;
    const all = await Promise.all([...OFFSETS.map((o) => port + o), pgPort].map(portFree));
    if (all.every(Boolean)) return { port, pgPort };
  }
  throw new Error('no free block of ports for a Temporal cluster in 19700-35000');
}

const live = new Set<TemporalCluster>();
process.once('exit', () => {
  // A test process that dies without afterAll still stops its servers (best effort, synchronously).
  for (const c of live) {
    for (const s of ['frontend', 'history', 'matching', 'worker'] as const) {
      try {
        process.kill(c.pid(s), 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
  }
});

/** Starts a cluster with `cluster.sh start` (building the server first if needed) and reads its `env`. */
export async function startCluster(): Promise<TemporalCluster> {
  const dir = tempDir('tp-cluster-');
  const { port, pgPort } = await freePorts();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_CLUSTER_DIR: dir,
    TEMPORAL_CLUSTER_PORT: String(port),
    TEMPORAL_CLUSTER_PG_PORT: String(pgPort),
    // Durability off, as in test/helpers/postgres.ts: the cluster is thrown away (a fast restart still checkpoints).
    TEMPORAL_CLUSTER_PG_OPTIONS: '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
  };
  delete env.TEMPORAL_CLUSTER_PG_HOST;
  try {
    await sh(['start'], env, 900_000);
  } catch (e) {
    await sh(['stop'], env).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const vars = Object.fromEntries(
    [...(await sh(['env'], env)).matchAll(/^export (\w+)='?([^'\n]*)'?$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  const storeUrl = vars.THOUGHT_PROBE_DATABASE_URL!;
  const password = readFileSync(join(dir, 'pg-password'), 'utf8').trim();
  const pidOf = (s: ClusterService) => Number(readFileSync(join(dir, `${s}.pid`), 'utf8').trim());
  const cluster: TemporalCluster = {
    address: vars.TEMPORAL_ADDRESS!,
    storeUrl,
    temporalDbUrl: storeUrl.replace(/\/[^/]+$/, '/temporal'),
    password,
    dir,
    pid: pidOf,
    kill: async (s) => {
      const pid = pidOf(s);
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 200; i++) {
        try {
          process.kill(pid, 0);
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`${s} (pid ${pid}) still runs 5 s after SIGKILL`);
    },
    start: async (s) => void (await sh(['start', s], env)),
    restartPostgres: async () => void (await sh(['restart-postgres'], env)),
    stop: async () => {
      live.delete(cluster);
      await sh(['stop'], env).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
    log: (s) => {
      try {
        return readFileSync(join(dir, `${s}.log`), 'utf8').split('\n').slice(-30).join('\n');
      } catch {
        return '';
      }
    },
  };
  live.add(cluster);
  return cluster;
}
