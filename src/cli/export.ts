import { createActivities } from '../activities';
import type { SampleError } from '../activities';
import { armSwaps } from '../experiment/plan';
import { processStores } from '../store';
import { describeStore, runStoreAddress, storeAddressOf } from '../store/address';
import { armWorkflowId, type ProbeArmResult } from '../workflows/api';
import { InputError, runNotFound } from './errors';
import { runInput } from './resume';
import { connectClient } from './temporal';

/**
 * `thought-probe export RUN_ID --out DIR`: the run's artifacts (samples.jsonl, summary.json, report.md,
 * report.html, config.json, swap.json) written from its store, on any host that reaches Temporal and the store.
 */
export async function exportCommand(runId: string, opts: { out: string }): Promise<void> {
  const client = await connectClient();
  const handle = client.workflow.getHandle(runId);
  const d = await handle.describe().catch(runNotFound(runId));
  const { config } = await runInput(client, runId);
  const address = runStoreAddress(config, runId);
  const doc = await processStores.open(storeAddressOf(address)).readDocument();
  if (!doc) {
    throw new InputError(
      `run ${runId} has nothing in its store as seen from here (${describeStore(address)}); export where the run's store is reachable`,
    );
  }
  // The samples that failed before judging are in the arms' results; an arm still running has given none yet.
  const errors: SampleError[] = [];
  const unfinished: string[] = [];
  for (const arm of config.arms) {
    const child = client.workflow.getHandle(armWorkflowId(runId, arm.name));
    const status = await child.describe().then((x) => x.status.name, () => 'NOT_STARTED');
    if (status === 'COMPLETED') errors.push(...((await child.result()) as ProbeArmResult).errors);
    else unfinished.push(`${arm.name} (${status.toLowerCase()})`);
  }
  const { writeArtifacts } = createActivities();
  const written = await writeArtifacts({
    ...address,
    outDir: opts.out,
    runId,
    swapIndexes: armSwaps(doc.config, doc.config.dataset.rows!),
    errors,
  });
  const p = written.paths;
  process.stdout.write(`exported run ${runId} (${d.status.name.toLowerCase()}) to ${p.dir}:\n  ${[p.samples, p.summary, p.report, p.html, p.config, p.swap].join('\n  ')}\n`);
  if (unfinished.length) process.stdout.write(`note: arms not finished yet: ${unfinished.join(', ')}; their missing samples say "no record was produced"\n`);
}
