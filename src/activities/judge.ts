import type { Condition } from '../experiment/conditions';
import type { WorkItem } from '../experiment/plan';
import { judgePrompt } from '../experiment/prompts';
import type { SampleRecord } from '../experiment/records';
import type { JudgeResult } from '../workflows/schedule/types';
import { requestSeed } from '../experiment/seeds';
import { sampleKey } from '../experiment/keys';
import { wordCount } from '../experiment/words';
import { MissingStoredInputError } from '../errors';
import type { Endpoint } from './classify';
import type { ActivityDeps } from './deps';
import type { StoreRef } from '../store';
import type { SuffixEntry } from './generate';
import { runLanes, type LaneWait } from './lanes';
import { askJudge, judgeRepeats, type JudgeEndpoint, type JudgeVerdict, type JudgmentEntry } from './judgments';

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
  const timeoutMs = config.generation.requestTimeoutSeconds * 1000;
  const main: JudgeEndpoint = { name: 'judge', settings: j, ep, client: deps.clients.for(ep, j.apiKeyEnv, timeoutMs), capped: false, metrics: deps.metrics };
  deps.metrics.cap(ep, j.maxConcurrency);
  // The main judge first, then every extra judge, each with its own prompt, endpoint and (per worker) cap.
  const judges: { prompt: string; endpoint: JudgeEndpoint }[] = [
    { prompt: j.prompt, endpoint: main },
    ...(config.judges ?? []).map((x) => {
      const xep: Endpoint = { role: `judge ${x.name}`, baseURL: x.baseURL, model: x.model, field: `judges[name=${x.name}]` };
      deps.metrics.cap(xep, x.maxConcurrency);
      return { prompt: x.prompt, endpoint: { name: x.name, settings: x, ep: xep, client: deps.clients.for(xep, x.apiKeyEnv, timeoutMs), capped: true, metrics: deps.metrics } };
    }),
  ];
  const multi = judges.length > 1 || (j.repeats ?? 1) > 1;
  // One look at the store per batch (see generate): records made by an earlier attempt are not judged again.
  const keyOf = (item: WorkItem) => sampleKey(item.prefixId, item.sample, item.condition as Condition);
  const keys = input.items.map(keyOf);
  // What this batch read of the store, kept by the batch (the store's own index is a window and may forget).
  const [records, suffixes] = await Promise.all([store.load<RecordEntry>(input.arm, 'records', keys), store.load<SuffixEntry>(input.arm, 'suffixes', keys)]);
  const failed = new Set<string>();
  // Judgments made by an earlier attempt (repeats, extra judges) are read for the batch's keys only.
  const judgmentKeys = multi ? keys.flatMap((k) => judges.flatMap((jd) => Array.from({ length: jd.endpoint.settings.repeats ?? 1 }, (_, r) => `${k}/${jd.endpoint.name}/${r}`))) : [];
  const judgmentsMade = multi ? await store.load<JudgmentEntry>(input.arm, 'judgments', judgmentKeys) : new Map<string, JudgmentEntry>();
  let unsubscribe = (): void => undefined;
  let wait: LaneWait<WorkItem> | undefined;
  if (input.ahead) {
    // Which items have their suffix (or a failure mark): looked up once, then told by the store as they come.
    const kinds = ['records', 'suffixes', 'failures'] as const;
    const byKey = new Map(input.items.map((it) => [keyOf(it), it]));
    const ready = new Set<WorkItem>();
    const look = () => {
      for (const [key, it] of byKey) {
        if (ready.has(it)) continue;
        if (records.has(key) || suffixes.has(key) || failed.has(key) || kinds.some((k) => store.peek(input.arm, k, key) !== undefined)) ready.add(it);
      }
    };
    const addFailures = (m: Map<string, unknown>) => m.forEach((_v, k) => failed.add(k));
    const addSuffixes = (m: Map<string, SuffixEntry>) => m.forEach((v, k) => suffixes.set(k, v));
    addFailures(await store.load(input.arm, 'failures', keys));
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
            // Only the keys still waited for are read again.
            const waited = [...byKey].filter(([, it]) => !ready.has(it)).map(([k]) => k);
            Promise.all([store.load<SuffixEntry>(input.arm, 'suffixes', waited).then(addSuffixes), store.load(input.arm, 'failures', waited).then(addFailures)])
              .then(look, () => undefined)
              .finally(finish);
          }, POLL_MS);
          nudge = finish;
          signal.addEventListener('abort', finish, { once: true });
        })),
    };
  }
  const outcomes = await runLanes(input.items, input.lanes, ep, async (item, _i, signal): Promise<JudgeResult> => {
    const condition = item.condition as Condition;
    const key = keyOf(item);
    let rec = records.get(key) ?? store.peek<RecordEntry>(input.arm, 'records', key);
    // Judging ahead, a suffix told of by the store may have left its window already: it is read again.
    const stored = rec ? undefined : (suffixes.get(key) ?? store.peek<SuffixEntry>(input.arm, 'suffixes', key) ?? (input.ahead && !failed.has(key) ? await store.get<SuffixEntry>(input.arm, 'suffixes', key) : undefined));
    if (!rec && input.ahead && !stored) {
      // Its generation failed for this sample: the arm records that error, not the judge.
      return { prefixIndex: item.prefixIndex, sample: item.sample, condition, reward: null, attempts: 0, error: null, notReady: true };
    }
    if (!rec) {
      const s = stored ?? (await store.get<SuffixEntry>(input.arm, 'suffixes', key));
      if (!s) throw new MissingStoredInputError(`suffix ${key} of arm ${input.arm}`, deps.identity);
      const row = await store.row(item.prefixId);
      const started = Date.now();
      const seedOf = (tag: string, attempt: number) => requestSeed(config.seed, input.arm, item.prefixId, item.sample, 'judge', `${condition}${tag}`, attempt);
      let reward: 0 | 1 | null;
      let raw: string;
      let attempts: number;
      let simulated = s.simulated;
      // Several judgments per suffix (repeats, extra judges): each stored as made; the record carries them all.
      let several: Pick<RecordEntry, 'judgments' | 'judges'> = {};
      if (!multi) {
        const asked = await askJudge(main, judgePrompt(j.prompt, row.prefix, row.suffix, s.suffix), (attempt) => seedOf('', attempt), signal);
        ({ score: reward, raw, attempts } = asked);
        simulated ||= asked.simulated;
      } else {
        // The judges at once, each judge's repeats one after another (the main judge's within this lane's slot). All
        // settle before a failure (a judge down) fails the lane, so what the others answered is stored, not asked again.
        const settled = await Promise.allSettled(
          judges.map((judge) => judgeRepeats(store, input.arm, key, judge.endpoint, judgePrompt(judge.prompt, row.prefix, row.suffix, s.suffix), seedOf, deps.limits, signal, judgmentsMade)),
        );
        const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
        if (failed) throw failed.reason;
        const verdicts = settled.map((x) => (x as PromiseFulfilledResult<JudgeVerdict>).value);
        const [own, ...extra] = verdicts as [JudgeVerdict, ...JudgeVerdict[]];
        reward = own.reward;
        // The answer shown is that of the first judgment agreeing with the reward (the last one when none is valid).
        raw = (own.judgments.find((x) => x.score === reward && reward !== null) ?? own.judgments[own.judgments.length - 1]!).raw;
        attempts = own.judgments.reduce((n, x) => n + x.attempts, 0);
        simulated ||= verdicts.some((v) => v.simulated);
        several = {
          judgments: own.judgments,
          ...(extra.length > 0 ? { judges: Object.fromEntries(extra.map((v, i) => [judges[i + 1]!.endpoint.name, { reward: v.reward, judgments: v.judgments }])) } : {}),
        };
      }
      rec = await store.put<RecordEntry>(input.arm, 'records', {
        key,
        runId: input.runId,
        arm: input.arm,
        condition,
        // Only configured interventions carry it: a record of the note's conditions is what it always was.
        ...(s.intervention ? { intervention: s.intervention } : {}),
        prefixId: item.prefixId,
        prefixIndex: item.prefixIndex,
        sample: item.sample,
        thought: s.thought,
        suffix: s.suffix,
        reward,
        judge: { valid: reward !== null, raw, attempts },
        ...several,
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
