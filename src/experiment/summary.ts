import { computeMetrics, type ArmMetrics, type ScoredRecord } from './metrics';

/** The size of a run, as the report's scale section states it. */
export interface RunScale {
  arms: number;
  prefixes: number;
  samplesPerPrefix: number;
  judgedSuffixes: number;
  invalid: number;
  invalidJudgeRate: number;
}

/** summary.json: the keys of EXPERIMENT.md plus the run's scale and provenance. */
export interface Summary {
  runId: string;
  /** Run ids whose records this summary contains (more than one after a resume). */
  runIds: string[];
  simulated: boolean;
  config: unknown;
  configHash: string | null;
  scale: RunScale;
  arms: Record<string, ArmMetrics>;
}

/** Options of a summary: provenance and the order of arms. */
export interface SummaryOptions {
  runId: string;
  runIds?: string[];
  simulated?: boolean;
  config?: unknown;
  configHash?: string | null;
  armOrder?: string[];
  /** Seed of the bootstrap and permutation draws (the run seed). */
  seed?: number;
}

/** Builds summary.json's content from scored records. */
export function buildSummary(records: ScoredRecord[], opts: SummaryOptions): Summary {
  const metrics = computeMetrics(records, opts.armOrder, opts.seed);
  const invalid = records.filter((r) => r.reward === null).length;
  return {
    runId: opts.runId,
    runIds: opts.runIds ?? [opts.runId],
    simulated: opts.simulated ?? false,
    config: opts.config ?? null,
    configHash: opts.configHash ?? null,
    scale: {
      arms: Object.keys(metrics.arms).length,
      prefixes: new Set(records.map((r) => r.prefixId)).size,
      samplesPerPrefix: records.reduce((m, r) => Math.max(m, r.sample + 1), 0),
      judgedSuffixes: records.length,
      invalid,
      invalidJudgeRate: records.length === 0 ? 0 : invalid / records.length,
    },
    arms: metrics.arms,
  };
}
