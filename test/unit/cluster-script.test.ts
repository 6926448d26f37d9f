/** infra/temporal/cluster.sh refuses bad input with exit 2, naming the setting and the fix, before it writes anything. */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/configs';

const script = join(__dirname, '..', '..', 'infra', 'temporal', 'cluster.sh');

function cluster(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync('bash', [script, ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderr: r.stderr };
}

test('an unknown command exits 2 naming the commands there are', () => {
  const r = cluster(['restart'], {});
  expect(r.status).toBe(2);
  expect(r.stderr).toContain("unknown command 'restart': use start, stop, status, env or restart-postgres");
});

test('a frontend port whose membership ports Temporal cannot store exits 2, and no state folder is made', () => {
  const dir = join(tempDir('tp-cluster-bad-'), 'state');
  const r = cluster(['start'], { TEMPORAL_CLUSTER_DIR: dir, TEMPORAL_CLUSTER_PORT: '40000' });
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('TEMPORAL_CLUSTER_PORT=40000');
  expect(r.stderr).toContain('pick a port from 1324 to 33067');
  expect(existsSync(dir)).toBe(false);
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

test('an external PostgreSQL without its password exits 2 naming the variable, and no state folder is made', () => {
  const dir = join(tempDir('tp-cluster-bad-'), 'state');
  const env: NodeJS.ProcessEnv = { TEMPORAL_CLUSTER_DIR: dir, TEMPORAL_CLUSTER_PG_HOST: 'db.example.internal', TEMPORAL_CLUSTER_PG_PASSWORD: '' };
  const r = cluster(['start'], env);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain('TEMPORAL_CLUSTER_PG_PASSWORD is not set');
  expect(existsSync(dir)).toBe(false);
  rmSync(join(dir, '..'), { recursive: true, force: true });
});
