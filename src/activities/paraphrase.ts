import type { WorkItem } from '../experiment/plan';
import { interventionSpecs, type InterventionSpec } from '../experiment/interventions';
import { thoughtKey } from '../experiment/keys';
import { DEFAULT_PARAPHRASE_PROMPT, paraphrasePrompt } from '../experiment/prompts';
import { requestSeed } from '../experiment/seeds';
import { MissingStoredInputError } from '../errors';
import { callEndpoint, type Endpoint } from './classify';
import type { ActivityDeps } from './deps';
import type { ThoughtEntry } from './generate';
import { runLanes } from './lanes';
import type { StoreRef } from '../store';
import type { ParaphraseResult } from '../workflows/schedule/types';

/** Input of the paraphrase activity: a batch of one paraphrased condition's thoughts of one arm to rewrite. */
export interface ParaphraseInput {
  /** The file store's run directory (and file-store runs). */
  storeDir: string;
  /** The run's store when it is not the file store. */
  store?: StoreRef;
  arm: string;
  lanes: number;
  items: WorkItem[];
}

/** A stored paraphrase: the arm's own thought of (prefix, sample) rewritten for one condition. */
export interface ParaphraseEntry {
  key: string;
  prefixId: string;
  sample: number;
  condition: string;
  /** The paraphrased thought. */
  thought: string;
  simulated: boolean;
  ms: number;
}

/** The store key of a paraphrase: `<prefixId>/<sample>/<condition>`. */
export function paraphraseKey(prefixId: string, sample: number, condition: string): string {
  return `${thoughtKey(prefixId, sample)}/${condition}`;
}

/**
 * The paraphrase activity: rewrites the arm's own thoughts with a condition's paraphraser (a chat model), each stored
 * before it counts as done, so a retry or a resumed run asks for none again. An empty thought stays empty without a
 * request. An unreachable paraphraser fails the activity, which Temporal retries: only this stage waits.
 */
export const createParaphrase = (deps: ActivityDeps) => async function paraphrase(input: ParaphraseInput): Promise<ParaphraseResult[]> {
  const store = deps.stores.open(input.store ?? input.storeDir);
  const config = await store.runConfig();
  const condition = input.items[0]!.condition!;
  const spec = interventionSpecs(config.conditions).find((s): s is Extract<InterventionSpec, { intervention: 'paraphrased_thought' }> => s.name === condition && s.intervention === 'paraphrased_thought');
  if (!spec) throw new MissingStoredInputError(`paraphrased condition ${condition} of the run's config`, deps.identity);
  const p = spec.paraphraser;
  const g = config.generation;
  const ep: Endpoint = { role: `paraphraser of ${condition}`, baseURL: p.baseURL, model: p.model, field: `conditions[name=${condition}].paraphraser` };
  const client = deps.clients.for(ep, p.apiKeyEnv, g.requestTimeoutSeconds * 1000);
  // The batch's own keys only (see generate).
  const [made, thoughts] = await Promise.all([
    store.load<ParaphraseEntry>(input.arm, 'paraphrases', input.items.map((it) => paraphraseKey(it.prefixId, it.sample, condition))),
    store.load<ThoughtEntry>(input.arm, 'thoughts', input.items.map((it) => thoughtKey(it.prefixId, it.sample))),
  ]);
  const outcomes = await runLanes(input.items, input.lanes, ep, async (item, _i, signal): Promise<ParaphraseResult> => {
    const key = paraphraseKey(item.prefixId, item.sample, condition);
    if (!made.get(key) && !store.peek<ParaphraseEntry>(input.arm, 'paraphrases', key)) {
      const own = thoughts.get(thoughtKey(item.prefixId, item.sample)) ?? (await store.get<ThoughtEntry>(input.arm, 'thoughts', thoughtKey(item.prefixId, item.sample)));
      if (!own) throw new MissingStoredInputError(`thought ${thoughtKey(item.prefixId, item.sample)} of arm ${input.arm}`, deps.identity);
      let thought = '';
      let simulated = own.simulated;
      const started = Date.now();
      if (own.thought.trim() !== '') {
        const call = new AbortController();
        const onCancel = () => call.abort(signal.reason);
        signal.addEventListener('abort', onCancel);
        const res = await callEndpoint(ep, () =>
          client.chat.completions.create(
            {
              model: p.model,
              messages: [{ role: 'user', content: paraphrasePrompt(p.prompt ?? DEFAULT_PARAPHRASE_PROMPT, own.thought) }],
              temperature: g.temperature,
              top_p: g.topP,
              // A paraphrase may run a little longer than the thought it rewrites.
              max_tokens: 2 * g.thoughtMaxTokens,
              seed: requestSeed(config.seed, input.arm, item.prefixId, item.sample, 'paraphrase', condition),
            },
            { signal: call.signal },
          ),
          deps.metrics,
        ).finally(() => signal.removeEventListener('abort', onCancel));
        thought = (res.choices?.[0]?.message?.content ?? '').trim();
        if (res.system_fingerprint === 'thought-probe-sim') simulated = true;
      }
      await store.put<ParaphraseEntry>(input.arm, 'paraphrases', { key, prefixId: item.prefixId, sample: item.sample, condition, thought, simulated, ms: Date.now() - started });
      deps.metrics.stored(input.arm, 'paraphrases');
    }
    return { prefixIndex: item.prefixIndex, sample: item.sample, condition, error: null };
  });
  return outcomes.map((o, i) => {
    if (o?.ok) return o.value;
    const it = input.items[i]!;
    return { prefixIndex: it.prefixIndex, sample: it.sample, condition, error: o?.error ?? 'no outcome' };
  });
};
