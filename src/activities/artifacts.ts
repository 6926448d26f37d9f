import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../config/schema';
import { canonicalJson, configHash } from '../config/load';
import { sampleKey } from '../experiment/keys';
import { swapsByPrefixId, type SwapEntry } from '../experiment/plan';
import { orderConditions, scoreRecord } from '../experiment/metrics';
import { armConditionEntries, conditionNames, interventionSpecs, interventionTable } from '../experiment/interventions';
import { renderReport } from '../experiment/report';
import { powerTable } from '../experiment/power';
import { judgeAgreement } from '../experiment/judges';
import type { SampleRecord } from '../experiment/records';
import { buildSummary, type Summary } from '../experiment/summary';
import { RunDirectoryConflictError } from '../errors';
import { renderReportHtml } from '../report';
import type { ActivityDeps } from './deps';
import type { RecordEntry } from './judge';
import { writeFileAtomic, writeJsonLinesAtomic, type StoreAddress, type StoreRef } from '../store';
import { loadRows } from '../store/datasets';
import { selectRows } from '../config/validate';

/** Input of prepareRun: the run's store, the config, and earlier runs to reuse. */
export interface PrepareRunInput {
  /** The file store's run directory (also the artifacts' directory). */
  storeDir: string;
  /** The run's store when it is not the file store (newer runs). */
  store?: StoreRef;
  runId: string;
  config: RunConfig;
  resumeFrom?: { runId: string; storeDir: string; store?: StoreRef }[];
}

/** How much stored work a resumed run took over from earlier runs, per arm. */
export type Reused = Record<string, { thoughts: number; suffixes: number; records: number }>;

function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/** What a thought or suffix of an arm depends on: if equal, stored generations can be reused. */
export function generationKey(config: RunConfig, arm: string): string | null {
  const a = config.arms.find((x) => x.name === arm);
  if (!a) return null;
  const { temperature, topP, thoughtMaxTokens, suffixMaxTokens } = config.generation;
  // Configured interventions enter only when there are any (so older runs keep their key): a changed keep, token,
  // donor arm or paraphraser makes that arm's stored generations not reusable.
  const specs = interventionSpecs(config.conditions).map((s) => (s.intervention === 'paraphrased_thought' ? { ...s, paraphraser: { model: s.paraphraser.model, prompt: s.paraphraser.prompt } } : s));
  return hashOf({
    seed: config.seed, rows: config.dataset.rows, samples: config.samplesPerPrefix, genericThoughts: config.genericThoughts, prompt: config.prompt,
    sampling: { temperature, topP, thoughtMaxTokens, suffixMaxTokens }, model: a.model, ...(specs.length > 0 ? { interventions: specs } : {}),
  });
}

/** What a judgment depends on beyond its suffix: if equal too, stored records can be reused. */
export function judgeKey(config: RunConfig): string {
  const { model, prompt, scorePattern, temperature, topP, maxTokens, invalidRetries, repeats } = config.judge;
  // Repeats and extra judges enter only when set, so runs without them keep the key they always had.
  const extra = config.judges?.map(({ name, model: m, prompt: p, scorePattern: sp, temperature: t, topP: tp, maxTokens: mt, invalidRetries: ir, repeats: r }) => ({ name, m, p, sp, t, tp, mt, ir, r }));
  return hashOf({ model, prompt, scorePattern, temperature, topP, maxTokens, invalidRetries, ...(repeats !== undefined ? { repeats } : {}), ...(extra ? { judges: extra } : {}) });
}

/** The prepareRun activity: writes the run's document (the resolved config and its hash) into its store, after taking over what earlier runs stored; the other activities read it. */
export const createPrepareRun = (deps: ActivityDeps) => async function prepareRun(input: PrepareRunInput): Promise<PrepareRunResult> {
  const hash = configHash(input.config);
  const address = input.store ?? input.storeDir;
  const store = deps.stores.open(address);
  const existing = await store.readDocument();
  // A dataset by reference: the rows come from the store, and the workflow learns only their ids.
  const ref = input.config.dataset.ref;
  const prefixesOf = (c: RunConfig) => (ref ? { prefixes: c.dataset.rows!.map((r) => ({ id: r.id, ...(r.sourceId ? { sourceId: r.sourceId } : {}) })) } : {});
  if (existing) {
    if (existing.configHash !== hash) {
      throw new RunDirectoryConflictError(
        `${where(input.store, input.storeDir)} already holds a run with a different config (${existing.configHash}); choose another run name or output.dir`,
      );
    }
    // Prepared before (this is a retry): the document is written last, so the copies below are complete.
    return { configHash: hash, reused: existing.reused ?? {}, ...prefixesOf(existing.config) };
  }
  const config = ref ? await withRows(input.config, address) : input.config;
  const reused: Reused = {};
  for (const prev of input.resumeFrom ?? []) {
    const from = deps.stores.open(prev.store ?? prev.storeDir);
    const old = (await from.readDocument())?.config;
    if (!old) throw new RunDirectoryConflictError(`cannot resume from ${prev.runId}: ${where(prev.store, prev.storeDir)} holds no run (was output.dir or the store changed?)`);
    const sameJudge = judgeKey(old) === judgeKey(config);
    for (const arm of config.arms) {
      const key = generationKey(config, arm.name);
      if (key === null || key !== generationKey(old, arm.name)) continue;
      const r = (reused[arm.name] ??= { thoughts: 0, suffixes: 0, records: 0 });
      r.thoughts += await store.reuse(from, arm.name, 'thoughts');
      r.suffixes += await store.reuse(from, arm.name, 'suffixes');
      // Paraphrases and single judgments are reused too, though not counted (the counts keep their shape).
      await store.reuse(from, arm.name, 'paraphrases');
      if (sameJudge) r.records += await store.reuse(from, arm.name, 'records');
      if (sameJudge) await store.reuse(from, arm.name, 'judgments');
    }
  }
  // Configs name environment variables for keys and never hold secrets themselves.
  const resumedFrom = (input.resumeFrom ?? []).map((p) => p.runId);
  await store.writeDocument({ runId: input.runId, configHash: hash, resumedFrom, reused, config });
  return { configHash: hash, reused, ...prefixesOf(config) };
};

/** What prepareRun returns: the config's hash, what it reused, and for a dataset by reference the ids of its rows. */
export interface PrepareRunResult {
  configHash: string;
  reused: Reused;
  prefixes?: { id: string; sourceId?: string }[];
}

/** A config whose dataset is a reference, with the rows it selects inline (as the run's document keeps them). */
async function withRows(config: RunConfig, address: StoreAddress): Promise<RunConfig> {
  const { ref: _ref, count, ...dataset } = config.dataset;
  const all = await loadRows(address, config.dataset.ref!, count!);
  const rows = selectRows({ ...config, dataset: { ...dataset, rows: all } });
  return { ...config, dataset: { ...dataset, rows, limit: rows.length, shuffle: false } };
}

function where(ref: StoreRef | undefined, dir: string): string {
  if (!ref || ref.kind === 'file') return ref?.dir ?? dir;
  return `the PostgreSQL store (${ref.urlEnv}) of run ${ref.runId}`;
}

/** A sample that ended in an error before it could be judged. */
export interface SampleError {
  arm: string;
  prefixIndex: number;
  sample: number;
  condition: string;
  error: string;
}

/**
 * Input of writeArtifacts: the swaps, the samples that failed, and (runs started before the summary moved into this
 * activity) the summary the workflow computed and the swaps it formatted.
 */
export interface WriteArtifactsInput {
  /** Where the artifacts go (and the file store's run directory). */
  storeDir: string;
  /** The run's store when it is not the file store (newer runs). */
  store?: StoreRef;
  /** Where the artifacts go instead of storeDir (`thought-probe export`). */
  outDir?: string;
  runId: string;
  /** Older runs: the summary computed in the workflow. Without it, the summary is computed here from the store. */
  summary?: Summary;
  /** Older runs: the swaps as prefix ids. */
  swaps?: Record<string, SwapEntry[]>;
  /** Newer runs: swap[i] is the prefix index whose thought slot i received, per arm (null without the swapped condition). */
  swapIndexes?: Record<string, number[] | null>;
  errors: SampleError[];
}

/** Where the artifacts of a run were written. */
export interface ArtifactPaths {
  dir: string;
  samples: string;
  summary: string;
  report: string;
  html: string;
  config: string;
  swap: string;
}

/**
 * The writeArtifacts activity: writes samples.jsonl (one record per arm x condition x prefix x sample, unique),
 * summary.json, report.md, report.html and swap.json. The summary is computed here, from the records in the order
 * of samples.jsonl, so `thought-probe analyze` of that file gives the same numbers.
 */
export const createWriteArtifacts = (deps: ActivityDeps) => async function writeArtifacts(input: WriteArtifactsInput): Promise<{ paths: ArtifactPaths; summary: Summary }> {
  const store = deps.stores.open(input.store ?? input.storeDir);
  const config = await store.runConfig();
  const rows = config.dataset.rows!;
  const names = conditionNames(config.conditions);
  const errorsByArm = new Map<string, Map<string, SampleError>>();
  for (const e of input.errors) {
    const m = errorsByArm.get(e.arm) ?? new Map<string, SampleError>();
    m.set(sampleKey(rows[e.prefixIndex]!.id, e.sample, e.condition), e);
    errorsByArm.set(e.arm, m);
  }
  const records: SampleRecord[] = [];
  const contributors = new Set<string>();
  let simulated = false;
  for (const arm of config.arms) {
    const stored = new Map((await store.all<RecordEntry>(arm.name, 'records')).map((r) => [r.key, r]));
    // Records in the experiment's order of conditions, the configured interventions after the note's, in config order.
    for (const condition of orderConditions(conditionNames(armConditionEntries(config.conditions, arm.name)), names)) {
      for (let i = 0; i < rows.length; i++) {
        for (let k = 0; k < config.samplesPerPrefix; k++) {
          const key = sampleKey(rows[i]!.id, k, condition);
          const hit = stored.get(key);
          let record: SampleRecord;
          if (hit) {
            const { key: _key, ...rest } = hit;
            record = rest;
            contributors.add(hit.runId);
            simulated ||= hit.simulated === true;
          } else {
            const e = errorsByArm.get(arm.name)?.get(key);
            record = {
              runId: input.runId, arm: arm.name, condition, prefixId: rows[i]!.id, prefixIndex: i, sample: k, thought: '', suffix: '',
              reward: null, judge: { valid: false, raw: '', attempts: 0 }, thoughtSource: null, closedThought: null,
              error: e?.error ?? 'no record was produced for this sample',
            };
          }
          records.push(record);
        }
      }
    }
  }
  // A resumed run names every run whose records it contains, its own last.
  const prepared = (await store.readDocument())!;
  const runIds = [...new Set([...(prepared.resumedFrom ?? []), ...contributors].filter((id) => id !== input.runId)), input.runId];
  const armOrder = config.arms.map((a) => a.name);
  const computed = input.summary ?? buildSummary(records.map(scoreRecord), {
    runId: input.runId, armOrder, seed: config.seed, conditionOrder: names, interventions: interventionTable(config.conditions),
    judgeAgreement: judgeAgreement(records, { armOrder, seed: config.seed, conditionOrder: names }),
  });
  const summary: Summary = { ...computed, runIds, simulated: computed.simulated || simulated, config: redactRows(config), configHash: configHash(config) };
  const swaps = input.swaps ?? swapsByPrefixId(input.swapIndexes ?? {}, rows);
  // Artifacts go beside the file store's run directory, or where `thought-probe export` says.
  const dir = input.outDir ?? input.storeDir;
  const paths: ArtifactPaths = {
    dir,
    samples: join(dir, 'samples.jsonl'),
    summary: join(dir, 'summary.json'),
    report: join(dir, 'report.md'),
    html: join(dir, 'report.html'),
    config: join(dir, 'config.json'),
    swap: join(dir, 'swap.json'),
  };
  // Rendered before anything is written, so a failure leaves the run directory as it was.
  const html = await renderReportHtml(summary, records, { truth: Object.fromEntries(rows.map((r) => [r.id, r.suffix])), prefixText: Object.fromEntries(rows.map((r) => [r.id, r.prefix])) });
  await mkdir(dir, { recursive: true });
  // A store elsewhere than this directory: config.json is written beside the other artifacts too.
  if (store.ref.kind !== 'file' || dir !== input.storeDir) await writeFileAtomic(paths.config, `${JSON.stringify(prepared, null, 2)}\n`);
  // One line per record, streamed: the file is never held in memory beside the records.
  await writeJsonLinesAtomic(paths.samples, records);
  await writeFileAtomic(paths.swap, `${JSON.stringify(swaps, null, 2)}\n`);
  await writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
  await writeFileAtomic(paths.report, renderReport(summary, { power: powerTable(records.map(scoreRecord)) }));
  await writeFileAtomic(paths.html, html);
  // The run is complete: this worker need not keep its texts in memory any longer.
  deps.stores.release(input.store ?? input.storeDir);
  // The workflow's copy of the summary leaves out the config (its texts stay in config.json).
  return { paths, summary: { ...summary, config: null } };
};


function redactRows(config: RunConfig): unknown {
  // summary.json names the rows; their texts are in config.json.
  return { ...config, dataset: { ...config.dataset, rows: undefined, rowIds: config.dataset.rows!.map((r) => r.id) } };
}
