import type { RunConfig } from '../config/schema';
import type { GenerationResult } from '../workflows/schedule/types';
import type { WorkItem } from '../experiment/plan';
import { cleanSuffix, extractThought, suffixPrompt, thoughtPrompt, THOUGHT_STOP } from '../experiment/prompts';
import { genericThoughtFor } from '../experiment/scaffolds';
import { requestSeed } from '../experiment/seeds';
import { wordCount } from '../experiment/words';
import { sampleKey, thoughtKey } from '../experiment/keys';
import { interventionSpecs } from '../experiment/interventions';
import { MissingStoredInputError } from '../errors';
import { callEndpoint, type Endpoint } from './classify';
import type { ActivityDeps } from './deps';
import type { StoreRef } from '../store';
import { runLanes } from './lanes';
import { derivedThought } from './derived';
import type { SamplingParams } from './stream';

/** Input of the generation activity: a batch of thought and suffix requests for one arm. */
export interface GenerateInput {
  /** The file store's run directory (older runs, and file-store runs). */
  storeDir: string;
  /** The run's store when it is not the file store. */
  store?: StoreRef;
  arm: string;
  lanes: number;
  items: WorkItem[];
}

/** A stored thought. */
export interface ThoughtEntry {
  key: string;
  prefixId: string;
  sample: number;
  thought: string;
  closedThought: boolean;
  simulated: boolean;
  ms: number;
  usage?: { promptTokens?: number; completionTokens?: number };
}

/** A stored suffix, with the thought it was conditioned on. */
export interface SuffixEntry {
  key: string;
  prefixId: string;
  prefixIndex: number;
  sample: number;
  condition: string;
  /** The kind of a configured intervention (absent under the note's four conditions). */
  intervention?: string;
  thought: string;
  /** The donor slot of a swapped thought, or (with `arm`) the arm a transplanted thought came from. */
  thoughtSource: { arm?: string; prefixId: string; sample: number } | null;
  closedThought: boolean | null;
  suffix: string;
  simulated: boolean;
  ms: number;
  usage?: { promptTokens?: number; completionTokens?: number };
}

function armOf(config: RunConfig, name: string, worker: string) {
  const arm = config.arms.find((a) => a.name === name);
  if (!arm) throw new MissingStoredInputError(`arm ${name} of the run's config`, worker);
  return arm;
}

/** The generation activity: generates the thoughts and suffixes of a batch; each result is stored before it counts as done. */
export const createGenerate = (deps: ActivityDeps) => async function generate(input: GenerateInput): Promise<GenerationResult[]> {
  const store = deps.stores.open(input.store ?? input.storeDir);
  const config = await store.runConfig();
  const arm = armOf(config, input.arm, deps.identity);
  const g = config.generation;
  const specs = new Map(interventionSpecs(config.conditions).map((s) => [s.name, s]));
  const ep: Endpoint = { role: `arm ${arm.name}`, baseURL: arm.baseURL, model: arm.model, field: `arms[name=${arm.name}]` };
  const client = deps.clients.for(ep, arm.apiKeyEnv, g.requestTimeoutSeconds * 1000);
  deps.metrics.cap(ep, arm.maxConcurrency);
  const paceKey = `${arm.baseURL}\u0000${arm.model}`;
  const text = (prompt: string, p: SamplingParams, signal: AbortSignal) =>
    callEndpoint(ep, () => deps.clients.streaming.generate(paceKey, g.stream ?? 'auto', client, config.prompt.mode, arm.model, prompt, p, signal, g.stallTimeoutSeconds * 1000), deps.metrics);
  // The items of a batch belong to this activity alone: one look at the store per batch finds what an earlier
  // attempt (or a killed worker) already made; per item, only memory is consulted. Only the batch's own keys are
  // read, so a worker holds what its batches need, not the run.
  const thoughtKeys = input.items.flatMap((it) =>
    it.stage === 'thought' ? [thoughtKey(it.prefixId, it.sample)] : it.thoughtSource ? [thoughtKey(it.thoughtSource.prefixId, it.thoughtSource.sample)] : it.condition === 'normal_model_thought' ? [thoughtKey(it.prefixId, it.sample)] : [],
  );
  const suffixKeys = input.items.flatMap((it) => (it.stage === 'suffix' ? [sampleKey(it.prefixId, it.sample, it.condition!)] : []));
  const [thoughts, suffixes] = await Promise.all([store.load<ThoughtEntry>(arm.name, 'thoughts', thoughtKeys), store.load<SuffixEntry>(arm.name, 'suffixes', suffixKeys)]);
  const outcomes = await runLanes(input.items, input.lanes, ep, async (item, _i, signal): Promise<GenerationResult> => {
    const row = await store.row(item.prefixId);
    if (item.stage === 'thought') {
      const key = thoughtKey(item.prefixId, item.sample);
      let entry = thoughts.get(key) ?? store.peek<ThoughtEntry>(arm.name, 'thoughts', key);
      if (!entry) {
        const out = await text(thoughtPrompt(config.prompt.thought, row.prefix), {
          maxTokens: g.thoughtMaxTokens, temperature: g.temperature, topP: g.topP, stop: [THOUGHT_STOP],
          seed: requestSeed(config.seed, arm.name, item.prefixId, item.sample, 'thought'),
        }, signal);
        const { thought, closedThought } = extractThought(out.text, out.finishReason);
        entry = await store.put<ThoughtEntry>(arm.name, 'thoughts', { key, prefixId: item.prefixId, sample: item.sample, thought, closedThought, simulated: out.simulated, ms: out.ms, usage: out.usage });
        deps.metrics.stored(arm.name, 'thoughts');
      }
      return { stage: 'thought', prefixIndex: item.prefixIndex, sample: item.sample, error: null, thoughtWords: wordCount(entry.thought) };
    }
    const condition = item.condition!;
    const key = sampleKey(item.prefixId, item.sample, condition);
    let entry = suffixes.get(key) ?? store.peek<SuffixEntry>(arm.name, 'suffixes', key);
    if (!entry) {
      let thought = '';
      let closedThought: boolean | null = null;
      let thoughtSource: SuffixEntry['thoughtSource'] = null;
      const spec = specs.get(condition);
      if (spec) {
        ({ thought, closedThought, thoughtSource } = await derivedThought(
          store, spec, { runSeed: config.seed, arm: arm.name, prefixId: item.prefixId, prefixIndex: item.prefixIndex, sample: item.sample }, signal, deps.identity,
        ));
      } else if (condition === 'normal_model_thought' || condition === 'same_arm_swapped_thought') {
        const src = condition === 'normal_model_thought' ? { prefixId: item.prefixId, sample: item.sample } : { prefixId: item.thoughtSource!.prefixId, sample: item.thoughtSource!.sample };
        const t = thoughts.get(thoughtKey(src.prefixId, src.sample)) ?? (await store.get<ThoughtEntry>(arm.name, 'thoughts', thoughtKey(src.prefixId, src.sample)));
        if (!t) throw new MissingStoredInputError(`thought ${thoughtKey(src.prefixId, src.sample)} of arm ${arm.name}`, deps.identity);
        thought = t.thought;
        closedThought = t.closedThought;
        if (condition === 'same_arm_swapped_thought') thoughtSource = src;
      } else if (condition === 'generic_thought') {
        thought = genericThoughtFor(config.genericThoughts, item.prefixIndex, item.sample);
      }
      const out = await text(suffixPrompt(config.prompt.suffix, row.prefix, thought), {
        maxTokens: g.suffixMaxTokens, temperature: g.temperature, topP: g.topP,
        seed: requestSeed(config.seed, arm.name, item.prefixId, item.sample, 'suffix', condition),
      }, signal);
      entry = await store.put<SuffixEntry>(arm.name, 'suffixes', {
        key, prefixId: item.prefixId, prefixIndex: item.prefixIndex, sample: item.sample, condition, ...(spec ? { intervention: spec.intervention } : {}),
        thought: thought.trim(), thoughtSource, closedThought,
        suffix: cleanSuffix(out.text), simulated: out.simulated, ms: out.ms, usage: out.usage,
      });
      deps.metrics.stored(arm.name, 'suffixes');
    }
    return { stage: 'suffix', prefixIndex: item.prefixIndex, sample: item.sample, condition, error: null, thoughtWords: wordCount(entry.thought), suffixWords: wordCount(entry.suffix) };
  }, arm.maxOutageSeconds);
  // A suffix that failed for its sample is marked in the store, so a judge batch waiting for it stops waiting; so is a
  // thought (under its thought key), so another arm's transplant waiting for it stops waiting.
  await Promise.all(
    outcomes.map((o, i) => {
      const it = input.items[i]!;
      if (!o || o.ok) return undefined;
      const key = it.stage === 'suffix' ? sampleKey(it.prefixId, it.sample, it.condition!) : thoughtKey(it.prefixId, it.sample);
      return store.put(arm.name, 'failures', { key, error: o.error }).then(() => deps.metrics.stored(arm.name, 'failures'));
    }),
  );
  return outcomes.map((o, i) => {
    if (o?.ok) return o.value;
    const it = input.items[i]!;
    // Without a wait, every item has an outcome.
    return { stage: it.stage as 'thought' | 'suffix', prefixIndex: it.prefixIndex, sample: it.sample, ...(it.condition ? { condition: it.condition } : {}), error: o?.error ?? 'no outcome' };
  });
};
