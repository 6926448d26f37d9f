// A run's records as the simulated endpoints would have produced them, computed in process (no server, no
// workflow): for tests and benchmarks that need a large run's store or report without making 80,000 model calls.
// Every record is marked `simulated: true`, as records from the simulated servers are.
import type { RunConfig } from '../config/schema';
import { sampleKey } from '../experiment/keys';
import { conditionNames } from '../experiment/interventions';
import { orderConditions } from '../experiment/metrics';
import { armSwaps } from '../experiment/plan';
import { cleanSuffix, extractThought, judgePrompt, parseJudgeScore, suffixPrompt, thoughtPrompt } from '../experiment/prompts';
import type { SampleRecord } from '../experiment/records';
import { genericThoughtFor } from '../experiment/scaffolds';
import { requestSeed } from '../experiment/seeds';
import { DEFAULT_SUCCESS, runArm } from './arm';
import { runJudge } from './judge';
import { RowIndex } from './rows';

/** Options of simulated records. */
export interface SimulatedRecordsOptions {
  /** Probability of an invalid judge answer, as the simulated judge's `--judge-invalid-rate`. */
  judgeInvalidRate?: number;
}

/**
 * Every record of a run whose config holds its rows inline, in the order of samples.jsonl (arm, condition, prefix,
 * sample), with the texts the simulated arm and judge models write for the same prompts and seeds.
 */
export function simulatedRecords(config: RunConfig, runId: string, opts: SimulatedRecordsOptions = {}): SampleRecord[] {
  const rows = config.dataset.rows!;
  const index = new RowIndex(rows);
  const swaps = armSwaps(config, rows);
  // The note's conditions (interventions are not simulated here).
  const conditions = orderConditions(conditionNames(config.conditions));
  const out: SampleRecord[] = [];
  for (const arm of config.arms) {
    const thoughts = rows.map((row, i) =>
      Array.from({ length: config.samplesPerPrefix }, (_, k) => {
        const g = runArm(arm.model, thoughtPrompt(config.prompt.thought, row.prefix), requestSeed(config.seed, arm.name, rows[i]!.id, k, 'thought'), index, DEFAULT_SUCCESS);
        return extractThought(g.text, g.finish);
      }),
    );
    for (const condition of conditions) {
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i]!;
        for (let k = 0; k < config.samplesPerPrefix; k++) {
          const from = condition === 'same_arm_swapped_thought' ? swaps[arm.name]![i]! : i;
          const thought =
            condition === 'blank_thought' ? '' : condition === 'generic_thought' ? genericThoughtFor(config.genericThoughts, i, k) : thoughts[from]![k]!.thought;
          const g = runArm(arm.model, suffixPrompt(config.prompt.suffix, row.prefix, thought), requestSeed(config.seed, arm.name, row.id, k, 'suffix', condition), index, DEFAULT_SUCCESS);
          const suffix = cleanSuffix(g.text);
          let raw = '';
          let reward: 0 | 1 | null = null;
          let attempts = 0;
          while (attempts <= config.judge.invalidRetries && reward === null) {
            const seed = requestSeed(config.seed, arm.name, row.id, k, 'judge', condition, attempts);
            raw = runJudge(judgePrompt(config.judge.prompt, row.prefix, row.suffix, suffix), seed, opts.judgeInvalidRate ?? 0);
            reward = parseJudgeScore(raw, config.judge.scorePattern);
            attempts++;
          }
          out.push({
            runId, arm: arm.name, condition, prefixId: row.id, prefixIndex: i, sample: k, thought, suffix, reward,
            judge: { valid: reward !== null, raw, attempts },
            thoughtSource: condition === 'same_arm_swapped_thought' ? { prefixId: rows[from]!.id, sample: k } : null,
            closedThought: condition === 'blank_thought' || condition === 'generic_thought' ? null : thoughts[from]![k]!.closedThought,
            error: null, simulated: true,
          });
        }
      }
    }
  }
  return out;
}

/** The store key of a record (what the judge activity stores it under). */
export function recordKey(r: Pick<SampleRecord, 'prefixId' | 'sample' | 'condition'>): string {
  return sampleKey(r.prefixId, r.sample, r.condition);
}
