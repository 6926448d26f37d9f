/**
 * The judge activity judging ahead: it starts before its suffixes exist, judges each as soon as it is stored
 * (by this process, or by another one appending to the store's file), and sends back as not ready a suffix
 * whose generation failed. Real store files, the real openai client over HTTP to the simulated judge.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import type { SuffixEntry } from '../../src/activities/generate';
import { sampleKey } from '../../src/experiment/keys';
import { storeFor } from '../../src/store';
import type { WorkItem } from '../../src/experiment/plan';
import type { JudgeResult } from '../../src/workflows/schedule';
import { startSimServer } from '../../src/sim/server';
import type { SimServer } from '../../src/sim/types';
import { heldoutRows, simConfig, tempDir } from '../helpers/configs';

const { judge, prepareRun } = createActivities();
let sim: SimServer;
beforeAll(async () => {
  sim = await startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 20 });
});
afterAll(() => sim.close());

function suffix(prefixId: string, prefixIndex: number, condition: string): SuffixEntry {
  return {
    key: sampleKey(prefixId, 0, condition), prefixId, prefixIndex, sample: 0, condition, thought: '', thoughtSource: null, closedThought: null,
    suffix: 'and so the story went on.', simulated: true, ms: 1,
  };
}

test('judges each suffix as it is stored, whoever stores it, and returns a failed one as not ready', async () => {
  const config = simConfig(sim.url, { output: { dir: tempDir() } });
  const storeDir = join(config.output.dir, 'ahead-run');
  const env = new MockActivityEnvironment();
  await env.run(prepareRun, { storeDir, runId: 'ahead-run', config, resumeFrom: [] });
  const rows = config.dataset.rows!;
  const items: WorkItem[] = [0, 1, 2].map((i) => ({ stage: 'judge', prefixId: rows[i]!.id, prefixIndex: i, sample: 0, condition: 'blank_thought' }));
  const before = (await sim.stats()).totalRequests;

  const started = Date.now();
  const running = env.run(judge, { storeDir, runId: 'ahead-run', arm: 'think_base', lanes: 2, items, ahead: true });
  await new Promise((r) => setTimeout(r, 300));
  // Nothing is stored yet, so nothing was judged.
  expect((await sim.stats()).totalRequests).toBe(before);
  // Item 0: stored by this process (the store tells the waiting batch at once).
  await storeFor(storeDir).put('think_base', 'suffixes', suffix(rows[0]!.id, 0, 'blank_thought'));
  // Item 1: appended by "another worker process" (seen by the batch's poll of the file).
  const dir = join(storeDir, 'store', 'think_base');
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, 'suffixes.jsonl'), `${JSON.stringify(suffix(rows[1]!.id, 1, 'blank_thought'))}\n`);
  // Item 2: its generation failed for this sample.
  appendFileSync(join(dir, 'failures.jsonl'), `${JSON.stringify({ key: sampleKey(rows[2]!.id, 0, 'blank_thought'), error: 'HTTP 400' })}\n`);
  const results = (await running) as JudgeResult[];

  expect(Date.now() - started).toBeLessThan(10_000);
  expect(results.map((r) => [r.prefixIndex, r.notReady ?? false, r.error])).toEqual([
    [0, false, null],
    [1, false, null],
    [2, true, null],
  ]);
  for (const r of results.slice(0, 2)) {
    expect(r.attempts).toBeGreaterThanOrEqual(1);
    expect(r.suffixWords).toBe(6);
  }
  // Two suffixes, each judged once at least (invalid answers are asked again); none for the failed one.
  const calls = (await sim.stats()).totalRequests - before;
  expect(calls).toBeGreaterThanOrEqual(2);
  expect(calls).toBe(results.reduce((n, r) => n + r.attempts, 0));
  const records = await storeFor(storeDir).all<{ key: string }>('think_base', 'records');
  expect(records.map((r) => r.key).sort()).toEqual([sampleKey(rows[0]!.id, 0, 'blank_thought'), sampleKey(rows[1]!.id, 0, 'blank_thought')].sort());
}, 30_000);
