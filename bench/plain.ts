// A plain in-process runner of the experiment, the baseline for thought-probe's schedule: the same model calls
// through the same openai client and the same experiment core, each endpoint behind a first-come-first-served
// promise pool with the run's caps. No Temporal, no store, no retries. Not part of the test suite.
import OpenAI from 'openai';
import { streamText } from '../src/activities/stream';
import { pointAtSim } from '../src/cli/demo';
import type { RunConfig } from '../src/config/schema';
import { selectRows } from '../src/config/validate';
import type { Condition } from '../src/experiment/conditions';
import { seededDerangement } from '../src/experiment/derangement';
import { scoreRecord, type ScoredRecord } from '../src/experiment/metrics';
import { cleanSuffix, extractThought, judgePrompt, parseJudgeScore, suffixPrompt, thoughtPrompt, THOUGHT_STOP } from '../src/experiment/prompts';
import { hash32 } from '../src/experiment/rng';
import { genericThoughtFor } from '../src/experiment/scaffolds';
import { requestSeed } from '../src/experiment/seeds';
import { buildSummary, type Summary } from '../src/experiment/summary';

/** What one endpoint's pool saw: tasks, the first start and last end (ms from the run's start), peak in flight. */
export interface PoolStats {
  cap: number;
  /** Tasks run (a judgment with its invalid-answer retries is one task). */
  tasks: number;
  firstStartMs: number | null;
  lastEndMs: number | null;
  peakInFlight: number;
}

/** What a plain run returns. */
export interface PlainResult {
  runId: string;
  /** From the first request's scheduling to the summary. */
  ms: number;
  requests: { total: number; judge: number; arms: Record<string, { thought: number; suffix: number }> };
  /** Per pool: `arm <name>` and `judge`. */
  pools: Record<string, PoolStats>;
  /** Samples that failed (a request error; no retries here): their reward is null, as in thought-probe. */
  errors: { arm: string; prefixId: string; sample: number; condition: string; error: string }[];
  summary: Summary;
}

/** A first-come-first-served pool: at most `cap` tasks run at once, the others wait in arrival order. */
class Pool {
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  readonly stats: PoolStats;

  constructor(cap: number, private readonly t0: number) {
    this.stats = { cap, tasks: 0, firstStartMs: null, lastEndMs: null, peakInFlight: 0 };
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        this.inFlight++;
        this.stats.tasks++;
        this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
        this.stats.firstStartMs ??= Date.now() - this.t0;
        task()
          .then(resolve, reject)
          .finally(() => {
            this.inFlight--;
            this.stats.lastEndMs = Date.now() - this.t0;
            this.waiting.shift()?.();
          });
      };
      if (this.inFlight < this.stats.cap) start();
      else this.waiting.push(start);
    });
  }
}

interface Thought {
  thought: string;
  closedThought: boolean;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Runs every arm's thoughts, its four conditions' suffixes (normal after its own thought, swapped after its
 * donor's, blank and generic at once) and a judgment per suffix, as thought-probe would, with `simUrl` (when
 * given) taking the place of every arm's and the judge's baseURL. Returns the makespan, counts and summary.
 */
export async function runPlain(opts: { config: RunConfig; simUrl?: string; runId?: string }): Promise<PlainResult> {
  const config = opts.simUrl ? pointAtSim(opts.config, opts.simUrl) : opts.config;
  const runId = opts.runId ?? `plain-${config.name}-${new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-')}`;
  const rows = selectRows(config);
  const g = config.generation;
  const j = config.judge;
  const timeoutMs = g.requestTimeoutSeconds * 1000;
  const stallMs = g.stallTimeoutSeconds * 1000;
  // As clientFor: one client per endpoint, no client retries, the request timeout of the config.
  const clients = new Map<string, OpenAI>();
  const clientOf = (baseURL: string, apiKeyEnv: string | undefined) => {
    const key = `${baseURL}\u0000${apiKeyEnv ?? ''}`;
    let c = clients.get(key);
    if (!c) {
      const apiKey = apiKeyEnv ? process.env[apiKeyEnv] : 'not-needed';
      if (!apiKey) throw new Error(`environment variable ${apiKeyEnv} (apiKeyEnv for ${baseURL}) is not set`);
      c = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: timeoutMs });
      clients.set(key, c);
    }
    return c;
  };
  const judgeClient = clientOf(j.baseURL, j.apiKeyEnv);
  // streamText links a cancel signal per request; nothing here cancels, so each request gets its own idle one.
  const never = () => new AbortController().signal;
  const needsThought = config.conditions.some((c) => c === 'normal_model_thought' || c === 'same_arm_swapped_thought');
  const records: ScoredRecord[] = [];
  const errors: PlainResult['errors'] = [];
  const requests: PlainResult['requests'] = { total: 0, judge: 0, arms: {} };
  let simulated = false;

  const t0 = Date.now();
  const judgePool = new Pool(j.maxConcurrency, t0);
  const pools: Record<string, Pool> = { judge: judgePool };

  const runArm = async (arm: RunConfig['arms'][number]): Promise<void> => {
    const pool = (pools[`arm ${arm.name}`] = new Pool(arm.maxConcurrency, t0));
    const client = clientOf(arm.baseURL, arm.apiKeyEnv);
    const counts = (requests.arms[arm.name] = { thought: 0, suffix: 0 });
    const swap = config.conditions.includes('same_arm_swapped_thought')
      ? seededDerangement(rows.length, { seed: hash32(`${config.seed}|swap|${arm.name}`), ...(config.dataset.avoidSameSource ? { sourceIds: rows.map((r) => r.sourceId) } : {}) })
      : null;
    // donors[p] = the slots whose swapped suffix takes prefix p's thought.
    const donors = rows.map((_, p) => (swap ?? []).flatMap((from, slot) => (from === p ? [slot] : [])));
    const fail = (i: number, sample: number, condition: string, error: string) => {
      errors.push({ arm: arm.name, prefixId: rows[i]!.id, sample, condition, error });
      records.push({ arm: arm.name, condition, prefixId: rows[i]!.id, sample, reward: null, thoughtWords: 0, suffixWords: 0 });
    };

    const judgeOne = async (i: number, sample: number, condition: Condition, thought: string, suffix: string): Promise<void> => {
      const row = rows[i]!;
      const content = judgePrompt(j.prompt, row.prefix, row.suffix, suffix);
      try {
        const reward = await judgePool.run(async () => {
          let r: 0 | 1 | null = null;
          for (let attempt = 0; r === null && attempt <= j.invalidRetries; attempt++) {
            requests.judge++;
            requests.total++;
            const res = await judgeClient.chat.completions.create({
              model: j.model,
              messages: [{ role: 'user', content }],
              temperature: j.temperature,
              top_p: j.topP,
              max_tokens: j.maxTokens,
              seed: requestSeed(config.seed, arm.name, row.id, sample, 'judge', condition, attempt),
            });
            if (res.system_fingerprint === 'thought-probe-sim') simulated = true;
            r = parseJudgeScore(res.choices?.[0]?.message?.content ?? '', j.scorePattern);
          }
          return r;
        });
        records.push(scoreRecord({ arm: arm.name, condition, prefixId: row.id, sample, reward, thought, suffix }));
      } catch (e) {
        fail(i, sample, condition, `judge: ${message(e)}`);
      }
    };

    const suffixThenJudge = async (i: number, sample: number, condition: Condition, thought: string): Promise<void> => {
      const row = rows[i]!;
      let suffix: string;
      try {
        const out = await pool.run(() => {
          counts.suffix++;
          requests.total++;
          return streamText(client, config.prompt.mode, arm.model, suffixPrompt(config.prompt.suffix, row.prefix, thought), {
            maxTokens: g.suffixMaxTokens, temperature: g.temperature, topP: g.topP,
            seed: requestSeed(config.seed, arm.name, row.id, sample, 'suffix', condition),
          }, never(), stallMs);
        });
        simulated ||= out.simulated;
        suffix = cleanSuffix(out.text);
      } catch (e) {
        return fail(i, sample, condition, message(e));
      }
      await judgeOne(i, sample, condition, thought.trim(), suffix);
    };

    const thoughtThenSuffixes = async (i: number, sample: number): Promise<void> => {
      const row = rows[i]!;
      let t: Thought;
      try {
        const out = await pool.run(() => {
          counts.thought++;
          requests.total++;
          return streamText(client, config.prompt.mode, arm.model, thoughtPrompt(config.prompt.thought, row.prefix), {
            maxTokens: g.thoughtMaxTokens, temperature: g.temperature, topP: g.topP, stop: [THOUGHT_STOP],
            seed: requestSeed(config.seed, arm.name, row.id, sample, 'thought'),
          }, never(), stallMs);
        });
        simulated ||= out.simulated;
        t = extractThought(out.text, out.finishReason);
      } catch (e) {
        const why = `thought of ${row.id}/${sample} failed: ${message(e)}`;
        if (config.conditions.includes('normal_model_thought')) fail(i, sample, 'normal_model_thought', why);
        if (swap) for (const slot of donors[i]!) fail(slot, sample, 'same_arm_swapped_thought', why);
        return;
      }
      const next: Promise<void>[] = [];
      if (config.conditions.includes('normal_model_thought')) next.push(suffixThenJudge(i, sample, 'normal_model_thought', t.thought));
      if (swap) for (const slot of donors[i]!) next.push(suffixThenJudge(slot, sample, 'same_arm_swapped_thought', t.thought));
      await Promise.all(next);
    };

    // Sample-major, so every prefix gets its first sample early; per slot its thought, then blank and generic.
    const all: Promise<void>[] = [];
    for (let k = 0; k < config.samplesPerPrefix; k++) {
      for (let i = 0; i < rows.length; i++) {
        if (needsThought) all.push(thoughtThenSuffixes(i, k));
        if (config.conditions.includes('blank_thought')) all.push(suffixThenJudge(i, k, 'blank_thought', ''));
        if (config.conditions.includes('generic_thought')) all.push(suffixThenJudge(i, k, 'generic_thought', genericThoughtFor(config.genericThoughts, i, k)));
      }
    }
    await Promise.all(all);
  };

  // Arms start in config order; within each pool, requests run in the order they became ready.
  await Promise.all(config.arms.map((a) => runArm(a)));
  const armOrder = config.arms.map((a) => a.name);
  const summary = buildSummary(records, { runId, simulated, armOrder });
  const ms = Date.now() - t0;
  return { runId, ms, requests, pools: Object.fromEntries(Object.entries(pools).map(([k, p]) => [k, p.stats])), errors, summary };
}
