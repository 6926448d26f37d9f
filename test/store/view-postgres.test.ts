/**
 * `view`'s server over a run in the PostgreSQL store: the same pages and answers as over the file store, read
 * through the RunStore interface from a real private PostgreSQL cluster, over real HTTP. The run list and status
 * come from a catalog given here (one running run) rather than from Temporal, whose part `test/e2e/view.test.ts`
 * covers; the run's records are the simulated endpoints' (src/sim/records), written through the store API, half of
 * them first and the rest while the server is up, as a running run's would be.
 */
import { migrate } from '../../src/store/migrate';
import { closePostgresPools, openPostgresStore, postgresPool } from '../../src/store/postgres';
import type { SampleRecord } from '../../src/experiment/records';
import type { RunStore } from '../../src/store';
import { startViewServer, type ViewServer } from '../../src/view';
import { tempDir } from '../helpers/configs';
import { largeRunConfig, storeRecords, writeLargeRun } from '../helpers/large-run';
import { usePostgres } from '../helpers/postgres';

const URL_ENV = 'THOUGHT_PROBE_TEST_VIEW_URL';
const pg = usePostgres();
let store: RunStore;
let server: ViewServer;
let all: SampleRecord[];
let first: SampleRecord[];

const key = (r: SampleRecord) => `${r.arm}|${r.condition}|${r.prefixId}|${r.sample}`;

async function api<T>(path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  process.env[URL_ENV] = pg.url;
  await migrate(postgresPool(pg.url));
  store = openPostgresStore({ kind: 'postgres', urlEnv: URL_ENV, runId: 'pg-view-1' });
  const config = largeRunConfig('pg-view', 8, tempDir('tp-view-pg-'));
  // Every other record now, the rest later.
  ({ records: first } = await writeLargeRun(config, 'pg-view-1', { store, records: (xs) => ((all = xs), xs.filter((_, i) => i % 2 === 0)) }));
  const listing = { runId: 'pg-view-1', status: 'RUNNING', startedAt: '2026-12-02T07:00:00.000Z', closedAt: null };
  server = await startViewServer({ catalog: { list: async () => [listing], open: async (id) => (id === listing.runId ? { listing, store } : undefined) } });
}, 180_000);

afterAll(async () => {
  await server?.close();
  store?.close();
  await closePostgresPools();
  delete process.env[URL_ENV];
});

test('a running run in PostgreSQL: its progress and samples so far, then every sample once the rest are stored', async () => {
  expect(all).toHaveLength(4 * 4 * 8 * 4);
  const list = await api<{ runs: { runId: string; stored: number; planned: number }[] }>('/api/runs');
  expect(list.body.runs).toEqual([expect.objectContaining({ runId: 'pg-view-1', stored: first.length, planned: all.length })]);
  const order = (xs: SampleRecord[]) => all.filter((r) => xs.some((x) => key(x) === key(r))).map(key);
  let page = await api<{ matching: number; samples: SampleRecord[] }>('/api/runs/pg-view-1/samples?pageSize=1000');
  expect(page.body.matching).toBe(first.length);
  expect(page.body.samples.map(key)).toEqual(order(first));

  await storeRecords(store, all.filter((_, i) => i % 2 === 1));
  page = await api('/api/runs/pg-view-1/samples?pageSize=1000');
  expect(page.body.matching).toBe(all.length);
  expect(page.body.samples.map(key)).toEqual(all.map(key));
  const run = await api<{ stored: number; summary: { scale: { judgedSuffixes: number } } }>('/api/runs/pg-view-1');
  expect(run.body.stored).toBe(all.length);
  expect(run.body.summary.scale.judgedSuffixes).toBe(all.length);
});

test('filters, search and one sample, read from PostgreSQL', async () => {
  const r = all.find((x) => x.condition === 'same_arm_swapped_thought' && x.arm === 'think_phase3')!;
  const filtered = await api<{ matching: number; samples: SampleRecord[] }>(`/api/runs/pg-view-1/samples?arm=think_phase3&condition=blank_thought&reward=0&pageSize=1000`);
  expect(filtered.body.samples.map(key)).toEqual(all.filter((x) => x.arm === 'think_phase3' && x.condition === 'blank_thought' && x.reward === 0).map(key));
  const word = r.suffix.toLowerCase().split(/\s+/).find((w) => w.length > 5)!;
  const found = await api<{ samples: SampleRecord[] }>(`/api/runs/pg-view-1/samples?pageSize=1000&q=${encodeURIComponent(word)}`);
  expect(found.body.samples.map(key)).toEqual(all.filter((x) => `${x.thought}\u0000${x.suffix}`.toLowerCase().includes(word)).map(key));
  const one = await api<SampleRecord & { prefix: string; trueSuffix: string; otherConditions: Record<string, string | null> }>(
    `/api/runs/pg-view-1/samples/${r.arm}/${r.condition}/${r.prefixId}/${r.sample}`,
  );
  expect(one.body).toMatchObject({ thought: r.thought, suffix: r.suffix, judge: r.judge, trueSuffix: expect.any(String), prefix: expect.stringContaining('Part ') });
  expect(Object.keys(one.body.otherConditions)).toEqual(['normal_model_thought', 'blank_thought', 'generic_thought']);
  const html = await fetch(`${server.url}/runs/pg-view-1/samples/${r.arm}/${r.condition}/${r.prefixId}/${r.sample}`).then((x) => x.text());
  expect(html).toContain('id="sv-thought"');
  expect((await api('/api/runs/pg-view-1/samples?prefix=nope')).status).toBe(400);
  expect((await api('/api/runs/other/samples')).status).toBe(404);
});
