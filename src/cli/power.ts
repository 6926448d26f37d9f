import { formatRate, formatSigned } from '../experiment/format';
import { powerTableOfTally, type PowerEstimate, type PowerOptions } from '../experiment/power';
import { RecordTally } from '../experiment/tally';
import { storedRecords } from '../activities/runRecords';
import { processStores } from '../store';
import { describeStore, runStoreAddress, storeAddressOf } from '../store/address';
import { readSamplesFile } from './analyze';
import { InputError, runNotFound } from './errors';
import { runInput } from './resume';
import { connectClient } from './temporal';

/** Options of `thought-probe power`, as commander gives them. */
export interface PowerCliOptions {
  samples?: string;
  run?: string;
  effect?: string;
  alpha: string;
  power: string;
  json?: boolean;
}

function probability(name: string, value: string): number {
  const x = Number(value);
  if (!Number.isFinite(x) || x <= 0 || x >= 1) throw new InputError(`${name}: must be a number between 0 and 1 (exclusive), got "${value}"`);
  return x;
}

/** The tally of a run's stored records, read from its store a page at a time (any host that reaches Temporal and the store). */
async function runTally(runId: string): Promise<RecordTally> {
  const client = await connectClient();
  await client.workflow.getHandle(runId).describe().catch(runNotFound(runId));
  const { config } = await runInput(client, runId);
  const address = runStoreAddress(config, runId);
  const store = processStores.open(storeAddressOf(address));
  // The workflow's input may name its dataset by reference: the store's document has the rows.
  const doc = await store.readDocument();
  if (!doc) throw new InputError(`--run: run ${runId} has nothing in its store as seen from here (${describeStore(address)}); give --samples with its samples.jsonl`);
  const tally = new RecordTally();
  for await (const r of storedRecords(store, doc.config)) tally.add(r);
  if (tally.records === 0) throw new InputError(`--run: run ${runId} has no records in its store as seen from here; give --samples with its samples.jsonl`);
  return tally;
}

const num = (x: number | null, f: (x: number) => string) => (x === null ? 'n/a' : f(x));

/** The text table of `thought-probe power`. */
export function renderPower(table: Record<string, Record<string, PowerEstimate>>, opts: { alpha: number; power: number; effect?: number }): string {
  const target = opts.effect === undefined ? 'the observed sensitivity' : `an effect of ${formatRate(opts.effect)}`;
  const lines = [
    `Prefixes needed to detect ${target} (two-sided alpha ${opts.alpha}, power ${opts.power}), by the paired normal approximation`,
    'n = ceil(((z(1 - alpha/2) + z(power)) x sd / D)^2), sd the sample standard deviation of p_i(normal) - p_i(condition):',
    '',
    '| Arm | Condition | Sensitivity | SD of differences | Prefixes | Minimum detectable effect | Prefixes needed |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [arm, conds] of Object.entries(table)) {
    for (const [c, e] of Object.entries(conds)) {
      lines.push(`| \`${arm}\` | \`${c}\` | ${num(e.effect, formatSigned)} | ${num(e.sd, formatRate)} | ${e.prefixes} | ${num(e.minimumDetectableEffect, formatRate)} | ${e.prefixesNeeded === null ? 'n/a' : e.prefixesNeeded.toLocaleString('en-US')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `thought-probe power` (its options are in ./commands, which loads this module to run it). */
export async function powerCommand(opts: PowerCliOptions): Promise<void> {
  if ((opts.samples === undefined) === (opts.run === undefined)) throw new InputError('give either --samples FILE or --run RUN_ID');
  const alpha = probability('--alpha', opts.alpha);
  const power = probability('--power', opts.power);
  let effect: number | undefined;
  if (opts.effect !== undefined) {
    effect = Number(opts.effect);
    if (!Number.isFinite(effect) || effect === 0) throw new InputError(`--effect: must be a non-zero number (a difference in reward, e.g. 0.1), got "${opts.effect}"`);
  }
  const tally = opts.samples !== undefined ? (await readSamplesFile(opts.samples)).inputs.tally : await runTally(opts.run!);
  const o: PowerOptions = { alpha, power, ...(effect !== undefined ? { effect } : {}) };
  const table = powerTableOfTally(tally, o);
  if (Object.keys(table).length === 0) throw new InputError('no arm has normal_model_thought records with a valid reward: there is nothing to compare with');
  process.stdout.write(opts.json ? `${JSON.stringify(table, null, 2)}\n` : renderPower(table, { alpha, power, ...(effect !== undefined ? { effect } : {}) }));
}


