/**
 * Makes the committed replay fixtures: runs a smoke experiment (1 arm think_base, 4 prefixes, 2 samples,
 * 3 conditions) on a throwaway dev server against the simulated server, then writes the run's history and its
 * arm child's history to test/replay/fixtures/ in the proto JSON the SDK replayer (and `temporal` CLI) reads.
 *
 *   npx tsx test/replay/make-fixtures.ts
 *
 * Rerun it after a deliberate, patched change of workflow code, and keep the old fixtures too (rename them):
 * the point of a fixture is that histories written by older code still replay.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyToJSON } from '../../src/replay/protojson';
import { startSimServer } from '../../src/sim';
import { createWorkers } from '../../src/workers/worker';
import { armWorkflowId } from '../../src/workflows/api';
import { historyFileName } from '../../src/replay/files';
import { heldoutRows, simConfig } from '../helpers/configs';
import { bundle, startTemporal } from '../helpers/temporal';

/** Where the fixtures live. */
export const FIXTURES_DIR = join(__dirname, 'fixtures');
/** The run id of the fixture run (its arm child is `<id>/arm/think_base`). */
export const FIXTURE_RUN_ID = 'replay-smoke';

async function main(): Promise<void> {
  const [env, workflowBundle, sim] = await Promise.all([startTemporal(), bundle(), startSimServer({ port: 0, rows: heldoutRows(), latencyMs: 5 })]);
  const workers = await createWorkers({ connection: env.nativeConnection, workflowBundle });
  const running = workers.map((w) => w.run());
  const config = simConfig(sim.url, { conditions: ['normal_model_thought', 'blank_thought', 'generic_thought'] });
  try {
    const handle = await env.client.workflow.start('probeRun', { args: [config], workflowId: FIXTURE_RUN_ID, taskQueue: 'thought-probe' });
    await handle.result();
    mkdirSync(FIXTURES_DIR, { recursive: true });
    let total = 0;
    for (const id of [FIXTURE_RUN_ID, armWorkflowId(FIXTURE_RUN_ID, 'think_base')]) {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      const file = join(FIXTURES_DIR, historyFileName(id));
      writeFileSync(file, `${historyToJSON(history)}\n`);
      const size = statSync(file).size;
      total += size;
      process.stdout.write(`wrote ${file} (${history.events?.length ?? 0} events, ${(size / 1024).toFixed(1)} KB)\n`);
    }
    process.stdout.write(`total ${(total / 1024).toFixed(1)} KB\n`);
    if (total > 300 * 1024) throw new Error(`fixtures are ${(total / 1024).toFixed(0)} KB; keep them under 300 KB (fewer prefixes or samples)`);
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
    await sim.close();
    await env.teardown();
    rmSync(config.output.dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
