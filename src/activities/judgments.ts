import type OpenAI from 'openai';
import type { JudgeConfig } from '../config/schema';
import { majorityReward, type Judgment } from '../experiment/agreement';
import { parseJudgeScore } from '../experiment/prompts';
import { callEndpoint, type Endpoint } from './classify';
import type { EndpointLimits } from './limits';
import type { RunStore } from '../store';
import type { RequestMetrics } from '../metrics/requests';

/** The part of a judge's config that asking it needs (the main judge's and every extra judge's). */
export type JudgeSettings = Pick<JudgeConfig, 'model' | 'temperature' | 'topP' | 'maxTokens' | 'scorePattern' | 'invalidRetries' | 'maxConcurrency'> & { repeats?: number };

/** A judge as a judge batch asks it: its name ("judge" for the main one), settings, endpoint and client. */
export interface JudgeEndpoint {
  name: string;
  settings: JudgeSettings;
  ep: Endpoint;
  client: OpenAI;
  /** Extra judges are capped per worker process here; the main judge's cap is the workflows' slot accounting. */
  capped: boolean;
  /** Where its requests are counted (a worker's `--metrics-port`). */
  metrics?: RequestMetrics;
}

/** One judgment as asked: its score (null when invalid after the retries), the last answer, the calls it took. */
export interface Asked extends Judgment {
  simulated: boolean;
}

/**
 * Asks a judge once for a score, with a fresh call after an invalid answer up to `invalidRetries` times. The seed of
 * each call comes from `seedOf(attempt)`. An unreachable judge throws (classified as its endpoint's error).
 */
export async function askJudge(judge: JudgeEndpoint, content: string, seedOf: (attempt: number) => number, signal: AbortSignal): Promise<Asked> {
  const s = judge.settings;
  let score: 0 | 1 | null = null;
  let raw = '';
  let attempts = 0;
  let simulated = false;
  while (score === null && attempts <= s.invalidRetries) {
    // A signal per call, linked to the activity's: the client adds a listener per request and keeps it.
    const call = new AbortController();
    const onCancel = () => call.abort(signal.reason);
    signal.addEventListener('abort', onCancel);
    const res = await callEndpoint(judge.ep, () =>
      judge.client.chat.completions.create(
        { model: s.model, messages: [{ role: 'user', content }], temperature: s.temperature, top_p: s.topP, max_tokens: s.maxTokens, seed: seedOf(attempts) },
        { signal: call.signal },
      ),
      judge.metrics,
      (r) => parseJudgeScore(r.choices?.[0]?.message?.content ?? '', s.scorePattern) !== null,
    ).finally(() => signal.removeEventListener('abort', onCancel));
    attempts++;
    raw = res.choices?.[0]?.message?.content ?? '';
    if (res.system_fingerprint === 'thought-probe-sim') simulated = true;
    score = parseJudgeScore(raw, s.scorePattern);
  }
  return { score, valid: score !== null, raw, attempts, simulated };
}

/** A stored judgment: one repeat of one judge for one suffix. */
export interface JudgmentEntry extends Asked {
  key: string;
  judge: string;
  repeat: number;
}

/** What a judge said about a suffix over its repeats: the majority reward and every judgment. */
export interface JudgeVerdict {
  reward: 0 | 1 | null;
  judgments: Judgment[];
  simulated: boolean;
}

/**
 * Every judgment of a suffix by one judge (its `repeats`, default 1), each stored under `<sampleKey>/<judge>/<repeat>`
 * as soon as it is made, so a retried batch asks again only for those not stored. Repeat r of judge J asks with the
 * seeds of (condition | J | r); the main judge's repeat 0 with those of the condition alone, as a single judgment does.
 */
export async function judgeRepeats(
  store: RunStore,
  arm: string,
  sampleKey: string,
  judge: JudgeEndpoint,
  content: string,
  seedOf: (tag: string, attempt: number) => number,
  limits: EndpointLimits,
  signal: AbortSignal,
  /** What the batch read of the stored judgments (the store's own index is only a window). */
  made: Map<string, JudgmentEntry> = new Map(),
): Promise<JudgeVerdict> {
  const judgments: Judgment[] = [];
  let simulated = false;
  for (let r = 0; r < (judge.settings.repeats ?? 1); r++) {
    const key = `${sampleKey}/${judge.name}/${r}`;
    let entry = made.get(key) ?? store.peek<JudgmentEntry>(arm, 'judgments', key);
    if (!entry) {
      const tag = judge.name === 'judge' && r === 0 ? '' : `|${judge.name}|${r}`;
      const release = judge.capped ? await limits.acquire(`${judge.ep.baseURL}\u0000${judge.settings.model}`, judge.settings.maxConcurrency) : () => undefined;
      try {
        const asked = await askJudge(judge, content, (attempt) => seedOf(tag, attempt), signal);
        entry = await store.put<JudgmentEntry>(arm, 'judgments', { key, judge: judge.name, repeat: r, ...asked });
        judge.metrics?.stored(arm, 'judgments');
      } finally {
        release();
      }
    }
    simulated ||= entry.simulated;
    judgments.push({ score: entry.score, valid: entry.valid, raw: entry.raw, attempts: entry.attempts });
  }
  return { reward: majorityReward(judgments.map((j) => j.score)), judgments, simulated };
}
