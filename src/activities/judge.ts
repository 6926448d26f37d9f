import type { Condition } from '../experiment/conditions';
import type { WorkItem } from '../experiment/plan';
import { judgePrompt, parseJudgeScore } from '../experiment/prompts';
import type { SampleRecord } from '../experiment/records';
import type { JudgeResult } from '../workflows/schedule/types';
import { requestSeed } from '../experiment/seeds';
import { sampleKey } from '../experiment/keys';
import { wordCount } from '../experiment/words';
import { MissingStoredInputError } from '../errors';
import { callEndpoint, type Endpoint } from './classify';
import type { ActivityDeps } from './deps';
import type { StoreRef } from '../store';
import type { SuffixEntry } from './generate';
import { runLanes, type LaneWait } from './lanes';

/** Input of the judge activity: a batch of predicted suffixes of one arm to score. */
export interface JudgeInput {
  /** The file store's run directory (older runs, and file-store runs). */
  storeDir: string;
  /** The run's store when it is not the file store. */
  store?: StoreRef;
  runId: string;
  arm: string;
  lanes: number;
  items: WorkItem[];
  /**
   * The batch may carry suffixes still being generated: it judges each as soon as it is stored, and returns
   * `notReady` for those that fail or do not appear in time (newer runs; older ones send only stored suffixes).
   */
  ahead?: boolean;
}

// How often a waiting batch looks for suffixes stored by other worker processes.
const POLL_MS = 250;
// A waiting batch ends (returning the rest as not ready) once nothing in it moved for this long.
const GIVE_UP_MS = 30_000;

/** A stored record: the sample record of EXPERIMENT.md plus its store key. */
export type RecordEntry = SampleRecord & { key: string };

/**
 * The judge activity: judges a batch of suffixes and records each finished sample. An invalid answer is asked
 * again with a fresh call up to `invalidRetries` times, then its reward is null. An unreachable judge is not an
 * answer: the activity fails and Temporal retries it, so an outage never turns into a reward.
 */
export const createJudge = (deps: ActivityDeps) => async function judge(input: JudgeInput): Promise<JudgeResult[]> {
  const store = deps.stores.open(input.store ?? input.storeDir);
  const config = await store.runConfig();
  const j = config.judge;
  const ep: Endpoint = { role: 'judge', baseURL: j.baseURL, model: j.model, field: 'judge' };
  const client = deps.clients.for(ep, j.apiKeyEnv, config.generation.requestTimeoutSeconds * 1000);
  deps.metrics.cap(ep, j.maxConcurrency);
  // One look at the store per batch (see generate): records made by an earlier attempt are not judged again.
  await Promise.all([store.prime(input.arm, 'records'), store.prime(input.arm, 'suffixes')]);
  const keyOf = (item: WorkItem) => sampleKey(item.prefixId, item.sample, item.condition as Condition);
  let unsubscribe = (): void => undefined;
  let wait: LaneWait<WorkItem> | undefined;
  if (input.ahead) {
    // Which items have their suffix (or a failure mark): looked up once, then told by the store as they come.
    const kinds = ['records', 'suffixes', 'failures'] as const;
    const byKey = new Map(input.items.map((it) => [keyOf(it), it]));
    const ready = new Set<WorkItem>();
    const look = () => {
      for (const [key, it] of byKey) if (!ready.has(it) && kinds.some((k) => store.peek(input.arm, k, key) !== undefined)) ready.add(it);
    };
    await store.prime(input.arm, 'failures');
    look();
    let nudge: (() => void) | undefined;
    unsubscribe = store.onStored((arm, kind, key) => {
      const it = arm === input.arm && kind !== 'thoughts' ? byKey.get(key) : undefined;
      if (it && !ready.has(it)) {
        ready.add(it);
        nudge?.();
      }
    });
    // One wait shared by every idle lane: woken by a stored input, or after a poll of the files.
    let waiting: Promise<void> | undefined;
    wait = {
      giveUpMs: GIVE_UP_MS,
      ready: (it) => ready.has(it),
      changed: (signal) =>
        (waiting ??= new Promise<void>((resolve) => {
          let finished = false;
          const finish = () => {
            if (finished) return;
            finished = true;
            clearTimeout(timer);
            signal.removeEventListener('abort', finish);
            nudge = undefined;
            waiting = undefined;
            resolve();
          };
          const timer = setTimeout(() => {
            Promise.all([store.prime(input.arm, 'suffixes'), store.prime(input.arm, 'failures')]).then(look, () => undefined).finally(finish);
          }, POLL_MS);
          nudge = finish;
          signal.addEventListener('abort', finish, { once: true });
        })),
    };
  }
  const outcomes = await runLanes(input.items, input.lanes, ep, async (item, _i, signal): Promise<JudgeResult> => {
    const condition = item.condition as Condition;
    const key = keyOf(item);
    let rec = store.peek<RecordEntry>(input.arm, 'records', key);
    if (!rec && input.ahead && !store.peek(input.arm, 'suffixes', key)) {
      // Its generation failed for this sample: the arm records that error, not the judge.
      return { prefixIndex: item.prefixIndex, sample: item.sample, condition, reward: null, attempts: 0, error: null, notReady: true };
    }
    if (!rec) {
      const s = await store.get<SuffixEntry>(input.arm, 'suffixes', key);
      if (!s) throw new MissingStoredInputError(`suffix ${key} of arm ${input.arm}`, deps.identity);
      const row = await store.row(item.prefixId);
      const content = judgePrompt(j.prompt, row.prefix, row.suffix, s.suffix);
      let reward: 0 | 1 | null = null;
      let raw = '';
      let attempts = 0;
      let simulated = s.simulated;
      const started = Date.now();
      while (reward === null && attempts <= j.invalidRetries) {
        // A signal per call, linked to the activity's: the client adds a listener per request and keeps it.
        const call = new AbortController();
        const onCancel = () => call.abort(signal.reason);
        signal.addEventListener('abort', onCancel);
        const res = await callEndpoint(ep, () => client.chat.completions.create(
          {
            model: j.model,
            messages: [{ role: 'user', content }],
            temperature: j.temperature,
            top_p: j.topP,
            max_tokens: j.maxTokens,
            seed: requestSeed(config.seed, input.arm, item.prefixId, item.sample, 'judge', condition, attempts),
          },
          { signal: call.signal },
        ), deps.metrics, (r) => parseJudgeScore(r.choices?.[0]?.message?.content ?? '', j.scorePattern) !== null).finally(() => signal.removeEventListener('abort', onCancel));
        attempts++;
        raw = res.choices?.[0]?.message?.content ?? '';
        if (res.system_fingerprint === 'thought-probe-sim') simulated = true;
        reward = parseJudgeScore(raw, j.scorePattern);
      }
      rec = await store.put<RecordEntry>(input.arm, 'records', {
        key,
        runId: input.runId,
        arm: input.arm,
        condition,
        prefixId: item.prefixId,
        prefixIndex: item.prefixIndex,
        sample: item.sample,
        thought: s.thought,
        suffix: s.suffix,
        reward,
        judge: { valid: reward !== null, raw, attempts },
        thoughtSource: s.thoughtSource,
        closedThought: s.closedThought,
        error: null,
        simulated,
        timings: { suffixMs: s.ms, judgeMs: Date.now() - started },
        ...(s.usage ? { usage: s.usage } : {}),
      });
      deps.metrics.stored(input.arm, 'records');
    }
    return {
      prefixIndex: item.prefixIndex, sample: item.sample, condition, reward: rec.reward, attempts: rec.judge.attempts, error: rec.error,
      thoughtWords: wordCount(rec.thought), suffixWords: wordCount(rec.suffix),
    };
  }, j.maxOutageSeconds, wait).finally(unsubscribe);
  return outcomes.map((o, i) => {
    if (o?.ok) return o.value;
    const it = input.items[i]!;
    const base = { prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition as Condition, reward: null, attempts: 0 };
    return o ? { ...base, error: o.error } : { ...base, error: null, notReady: true };
  });
};
