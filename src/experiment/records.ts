import { z } from 'zod';

/** What the judge said about one predicted suffix. */
export const JudgeOutcomeSchema = z.object({
  valid: z.boolean(),
  raw: z.string(),
  attempts: z.number().int().min(0),
});

/**
 * The fields of a samples.jsonl line that analysis relies on. Extra fields are kept, so files written by
 * earlier versions or by hand are read as they are.
 */
export const SampleRecordCoreSchema = z.looseObject({
  arm: z.string().min(1),
  condition: z.string().min(1),
  prefixId: z.string().min(1),
  sample: z.number().int().min(0),
  thought: z.string(),
  suffix: z.string(),
  reward: z.union([z.literal(0), z.literal(1), z.null()]),
  judge: z.looseObject(JudgeOutcomeSchema.shape),
});

/** A record as analysis reads it. */
export type SampleRecordCore = z.infer<typeof SampleRecordCoreSchema>;

/** A full record as the probe writes it: one arm x condition x prefix x sample. */
export interface SampleRecord {
  runId: string;
  arm: string;
  condition: string;
  /** The kind of a configured intervention (absent under the note's four conditions). */
  intervention?: string;
  prefixId: string;
  prefixIndex: number;
  sample: number;
  thought: string;
  suffix: string;
  reward: 0 | 1 | null;
  judge: { valid: boolean; raw: string; attempts: number };
  /** Every judgment of the main judge, when it judges more than once (`judge.repeats`) or other judges do too. */
  judgments?: { score: 0 | 1 | null; valid: boolean; raw: string; attempts: number }[];
  /** Each extra judge's reward (the majority of its judgments) and judgments, by judge name (`judges`). */
  judges?: Record<string, { reward: 0 | 1 | null; judgments: { score: 0 | 1 | null; valid: boolean; raw: string; attempts: number }[] }>;
  /** The donor slot of a swapped thought; with `arm`, the arm a transplanted thought came from. */
  thoughtSource: { arm?: string; prefixId: string; sample: number } | null;
  closedThought: boolean | null;
  error: string | null;
  simulated?: boolean;
  timings?: { thoughtMs?: number; suffixMs?: number; judgeMs?: number };
  usage?: { promptTokens?: number; completionTokens?: number };
}
