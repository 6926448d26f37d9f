import { z } from 'zod';
import { CONDITIONS } from '../experiment/conditions';
import { DEFAULT_FILLER_TOKEN, INTERVENTION_KINDS, conditionName } from '../experiment/interventions';
import { DEFAULT_GENERIC_THOUGHTS } from '../experiment/scaffolds';
import {
  DEFAULT_JUDGE_PROMPT,
  DEFAULT_SCORE_PATTERN,
  DEFAULT_SUFFIX_TEMPLATE,
  DEFAULT_THOUGHT_TEMPLATE,
} from '../experiment/prompts';

/** The default task queue that workers poll and arms are routed to. */
export const DEFAULT_TASK_QUEUE = 'thought-probe';

const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must name an environment variable (letters, digits, _), not hold the key itself');

const url = z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL such as http://localhost:8000/v1');

/** One held-out row: a prefix and its true continuation. */
export const DatasetRowSchema = z.looseObject({
  id: z.string().min(1),
  prefix: z.string().min(1),
  suffix: z.string().min(1),
  sourceId: z.string().min(1).optional(),
});

/** A held-out row. */
export type DatasetRow = z.infer<typeof DatasetRowSchema>;

const DatasetSchema = z
  .strictObject({
    path: z.string().min(1).optional().describe('JSONL file of {id, prefix, suffix, sourceId?}, relative to the config file'),
    rows: z.array(DatasetRowSchema).optional().describe('rows inline, instead of path'),
    ref: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'must be sha256: and 64 hex digits (written by config resolve)')
      .optional()
      .describe("rows by reference: the content hash of rows put into the run's store by config resolve or run"),
    count: z.number().int().positive().optional().describe('how many rows the reference holds'),
    limit: z.number().int().positive().default(32).describe('use the first N rows (after shuffling)'),
    shuffle: z.boolean().default(false).describe('shuffle rows with the run seed before the limit'),
    source: z.string().optional().describe('where resolved rows came from (written by config resolve)'),
    avoidSameSource: z.boolean().default(false).describe('never swap thoughts between prefixes with the same sourceId'),
  })
  .superRefine((d, ctx) => {
    const given = [d.path, d.rows, d.ref].filter((x) => x !== undefined).length;
    if (given === 0) ctx.addIssue({ code: 'custom', message: 'give either path or rows', path: ['path'] });
    if (given > 1) ctx.addIssue({ code: 'custom', message: `give one of path, rows or ref, not ${d.path !== undefined && d.rows !== undefined ? 'both path and rows' : 'several'}`, path: [d.rows !== undefined ? 'rows' : 'ref'] });
    if (d.ref !== undefined && d.count === undefined) ctx.addIssue({ code: 'custom', message: 'a ref needs its row count', path: ['count'] });
    if (d.rows) {
      const seen = new Set<string>();
      d.rows.forEach((r, i) => {
        if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `duplicate id "${r.id}"`, path: ['rows', i, 'id'] });
        seen.add(r.id);
      });
    }
  });

const ArmSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" or "-" (it is part of workflow ids)'),
  baseURL: url.describe('OpenAI-compatible base URL, e.g. http://localhost:8000/v1'),
  model: z.string().min(1).describe('model name the server serves'),
  apiKeyEnv: envName.optional().describe('environment variable holding the API key, read by workers'),
  maxConcurrency: z.number().int().positive().default(16).describe('most requests in flight to this server at once'),
  taskQueue: z.string().min(1).default(DEFAULT_TASK_QUEUE).describe('task queue of the workers that reach this server'),
  maxOutageSeconds: z.number().positive().optional().describe('pause the run when this server is down longer (off by default)'),
  maxRetryIntervalSeconds: z.number().positive().default(60).describe('longest wait between retries while this server is down'),
});

const JudgeSchema = z.strictObject({
  baseURL: url,
  model: z.string().min(1).default('qwen-judge'),
  apiKeyEnv: envName.optional(),
  maxConcurrency: z.number().int().positive().default(32).describe('most judge requests in flight, over all arms'),
  temperature: z.number().min(0).max(2).default(0.7),
  topP: z.number().gt(0).max(1).default(0.6),
  maxTokens: z.number().int().positive().default(64),
  prompt: z.string().min(1).default(DEFAULT_JUDGE_PROMPT).describe('placeholders {prefix}, {reference}, {prediction}'),
  scorePattern: z
    .string()
    .default(DEFAULT_SCORE_PATTERN)
    .refine((p) => {
      try {
        return new RegExp(`${p}|`).exec('')!.length >= 2;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression with one capture group for the 0/1 score'),
  invalidRetries: z.number().int().min(0).default(2).describe('fresh judge calls after an invalid answer'),
  // No default: a config without it resolves (and hashes) as it always did.
  repeats: z
    .number()
    .int()
    .positive()
    .refine((r) => r % 2 === 1, 'must be odd (1, 3, 5, ...), so that a majority of the judgments decides the reward')
    .optional()
    .describe('judgments per suffix with distinct seeds; the reward is the majority of the valid ones (default 1)'),
  maxRetryIntervalSeconds: z.number().positive().default(60).describe('longest wait between retries while the judge is down'),
  maxOutageSeconds: z.number().positive().optional(),
  taskQueue: z.string().min(1).optional().describe("task queue of the workers beside the judge server (default: the run's own)"),
});

const conditionNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" or "-" (it is part of store keys and activity ids)')
  .refine((n) => !(CONDITIONS as readonly string[]).includes(n), 'is one of the note\'s four conditions; give the intervention a name of its own');

const ParaphraserSchema = z.strictObject({
  baseURL: url.describe('OpenAI-compatible base URL of the paraphrasing chat model'),
  model: z.string({ error: 'is required: the chat model that paraphrases thoughts' }).min(1, 'is required: the chat model that paraphrases thoughts'),
  apiKeyEnv: envName.optional(),
  maxConcurrency: z.number().int().positive().default(16).describe('most paraphrase requests in flight, over all arms'),
  prompt: z.string().min(1).optional().describe('placeholder {thought}; the default asks for the same meaning in other words'),
});

/** A configured intervention on the thought (EXPERIMENT.md, "Beyond the note"). */
const InterventionSchema = z.discriminatedUnion(
  'intervention',
  [
    z.strictObject({
      name: conditionNameSchema,
      intervention: z.literal('truncated_thought'),
      keep: z
        .number({ error: 'is required: the share of the thought\'s words kept, between 0 and 1' })
        .gt(0, 'must be above 0 (keep 0 is blank_thought)')
        .lt(1, 'must be below 1 (keep 1 is normal_model_thought)'),
    }),
    z.strictObject({ name: conditionNameSchema, intervention: z.literal('filler_thought'), token: z.string().min(1).regex(/^\S+$/, 'must be one word (no spaces)').default(DEFAULT_FILLER_TOKEN) }),
    z.strictObject({ name: conditionNameSchema, intervention: z.literal('shuffled_thought') }),
    z.strictObject({ name: conditionNameSchema, intervention: z.literal('cross_arm_thought'), fromArm: z.string().min(1) }),
    z.strictObject({ name: conditionNameSchema, intervention: z.literal('paraphrased_thought'), paraphraser: ParaphraserSchema }),
  ],
  { error: `must be one of ${INTERVENTION_KINDS.join(', ')}` },
);

const ConditionEntrySchema = z.union([z.enum(CONDITIONS), InterventionSchema], {
  error: `must be one of ${CONDITIONS.join(', ')}, or an object { name, intervention, ... } with intervention one of ${INTERVENTION_KINDS.join(', ')}`,
});

/** More judges that score every suffix too; their calls are made by the main judge's activities, on its task queue. */
const ExtraJudgeSchema = JudgeSchema.omit({ taskQueue: true }).extend({
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" or "-"')
    .refine((n) => n !== 'judge', '"judge" names the main judge; give this one a name of its own')
    .describe('how records, summaries and reports name this judge'),
});

/** Where a run keeps its texts: the file store (default) or PostgreSQL, whose URL is in the variable `urlEnv` names. */
const StoreSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('file') }),
  z.strictObject({
    kind: z.literal('postgres'),
    urlEnv: envName.default('THOUGHT_PROBE_DATABASE_URL').describe('environment variable holding the postgres:// URL on workers and the CLI'),
  }),
]);

const PromptSchema = z
  .strictObject({
    mode: z.enum(['completions', 'chat']).default('completions'),
    thought: z.string().min(1).default(DEFAULT_THOUGHT_TEMPLATE),
    suffix: z.string().min(1).default(DEFAULT_SUFFIX_TEMPLATE),
  })
  .superRefine((p, ctx) => {
    if (!p.thought.includes('{prefix}')) ctx.addIssue({ code: 'custom', message: 'must contain {prefix}', path: ['thought'] });
    for (const ph of ['{prefix}', '{thought}']) {
      if (!p.suffix.includes(ph)) ctx.addIssue({ code: 'custom', message: `must contain ${ph}`, path: ['suffix'] });
    }
  });

const GenerationSchema = z.strictObject({
  temperature: z.number().min(0).max(2).default(1.0),
  topP: z.number().gt(0).max(1).default(0.95),
  thoughtMaxTokens: z.number().int().positive().default(48),
  suffixMaxTokens: z.number().int().positive().default(128),
  requestTimeoutSeconds: z.number().positive().default(300).describe('longest single model request'),
  stallTimeoutSeconds: z.number().positive().default(30).describe('a stream silent this long is retried'),
  stream: z
    .enum(['auto', 'always', 'never'])
    .optional()
    .describe(
      'how generations travel: auto (the default) streams an endpoint\'s calls unless its recent ones all ended inside a third ' +
        'of stallTimeoutSeconds, then asks for whole answers timed by the same stall timeout; always streams; never asks for whole answers',
    ),
});

const BatchingSchema = z.strictObject({
  maxRequestsPerActivity: z
    .number()
    .int()
    .positive()
    .default(64)
    .describe('requests one activity may carry under backlog; 1 = one request per activity'),
  prefixesPerChunk: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "prefixes an arm's workflow schedules before it continues as new, so its history stays small at any size " +
        '(default: as many as make about 6,144 judgments per arm)',
    ),
});

/** The run config: what `thought-probe run` and the `probeRun` workflow take. */
export const RunConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, 'use letters, digits, ".", "_" or "-" (it becomes the run id)'),
    seed: z.number().int().min(0).default(4337),
    dataset: DatasetSchema,
    samplesPerPrefix: z.number().int().positive().default(4),
    conditions: z
      .array(ConditionEntrySchema)
      .min(1)
      .default([...CONDITIONS])
      .refine((cs) => new Set(cs.map(conditionName)).size === cs.length, 'list each condition once')
      .refine((cs) => cs.includes('normal_model_thought'), 'must include normal_model_thought, the causal baseline'),
    genericThoughts: z.array(z.string().min(1)).min(1).default([...DEFAULT_GENERIC_THOUGHTS]),
    prompt: PromptSchema.prefault({}),
    generation: GenerationSchema.prefault({}),
    arms: z
      .array(ArmSchema)
      .min(1, 'list at least one arm')
      .refine((as) => new Set(as.map((a) => a.name)).size === as.length, 'arm names must be unique'),
    judge: JudgeSchema,
    judges: z
      .array(ExtraJudgeSchema)
      .min(1, 'list at least one judge, or leave judges out')
      .refine((js) => new Set(js.map((j) => j.name)).size === js.length, 'judge names must be unique')
      .optional()
      .describe('more judges that score every suffix too (judge agreement, EXPERIMENT.md)'),
    batching: BatchingSchema.prefault({}),
    output: z.strictObject({ dir: z.string().min(1).default('runs') }).prefault({}),
    store: StoreSchema.optional().describe('where the run keeps its texts (default: files under output.dir)'),
  })
  .superRefine((c, ctx) => {
    const available = c.dataset.rows?.length ?? c.dataset.count;
    const rows = available !== undefined ? Math.min(available, c.dataset.limit) : c.dataset.limit;
    if (c.conditions.includes('same_arm_swapped_thought') && rows < 2) {
      ctx.addIssue({ code: 'custom', message: 'same_arm_swapped_thought needs at least 2 prefixes; raise dataset.limit or drop the condition', path: ['conditions'] });
    }
    const arms = c.arms.map((a) => a.name);
    c.conditions.forEach((e, i) => {
      if (typeof e === 'string' || e.intervention !== 'cross_arm_thought') return;
      if (!arms.includes(e.fromArm)) {
        ctx.addIssue({ code: 'custom', message: `"${e.fromArm}" is not an arm of this run; use one of ${arms.join(', ')}`, path: ['conditions', i, 'fromArm'] });
      } else if (arms.length < 2) {
        ctx.addIssue({ code: 'custom', message: 'a transplant needs another arm to run on; add an arm or drop the condition', path: ['conditions', i, 'fromArm'] });
      }
    });
  });

/** A run config as written (defaults not yet applied). */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
/** A run config with every default applied. */
export type RunConfig = z.output<typeof RunConfigSchema>;
/** One arm of a run config. */
export type ArmConfig = RunConfig['arms'][number];
/** The judge of a run config. */
export type JudgeConfig = RunConfig['judge'];
/** One of a run config's extra judges. */
export type ExtraJudgeConfig = NonNullable<RunConfig['judges']>[number];
