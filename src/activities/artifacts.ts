import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../config/schema';
import { canonicalJson, configHash } from '../config/load';
import { sampleKey } from '../experiment/keys';
import { swapsByPrefixId, type SwapEntry } from '../experiment/plan';
import { conditionNames, interventionSpecs, interventionTable } from '../experiment/interventions';
import { renderReport } from '../experiment/report';
import { powerTableOfTally } from '../experiment/power';
import { judgeAgreementOfTally } from '../experiment/judges';
import { summaryOfTally, type Summary } from '../experiment/summary';
import { RunDirectoryConflictError } from '../errors';
import { renderReportPage } from '../report';
import { ReportInputs, sampleIndexFromFile } from '../report/inputs';
import type { ActivityDeps } from './deps';
import { failedRecord, storedRecords, type PlannedSample } from './runRecords';
import { StagedFiles, type StoreAddress, type StoreRef } from '../store';
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
  await mkdir(dir, { recursive: true });
  // Every file is written under a temporary name and renamed only when all are complete, so a failure (or a crash)
  // leaves the run directory as it was.
  const staged = new StagedFiles();
  let summary: Summary;
  try {
    const inputs = new ReportInputs();
    const contributors = new Set<string>();
    let simulated = false;
    // One pass over the store, a page of records at a time, in the order of samples.jsonl: each record is written
    // and tallied, then let go.
    const samples = staged.stream(paths.samples);
    const missing = (p: PlannedSample) => failedRecord(input.runId, p, errorsByArm.get(p.arm)?.get(p.key)?.error);
    for await (const record of storedRecords(store, config, missing)) {
      // A failed sample names this run, which the list below puts last anyway.
      contributors.add(record.runId);
      simulated ||= record.simulated === true;
      await samples.line(JSON.stringify(record));
      inputs.add(record);
    }
    await samples.end();
    // A resumed run names every run whose records it contains, its own last.
    const prepared = (await store.readDocument())!;
    const runIds = [...new Set([...(prepared.resumedFrom ?? []), ...contributors].filter((id) => id !== input.runId)), input.runId];
    const armOrder = config.arms.map((a) => a.name);
    const { tally } = inputs;
    const computed = input.summary ?? summaryOfTally(tally, {
      runId: input.runId, armOrder, seed: config.seed, conditionOrder: names, interventions: interventionTable(config.conditions),
      judgeAgreement: judgeAgreementOfTally(tally, { armOrder, seed: config.seed, conditionOrder: names }),
    });
    summary = { ...computed, runIds, simulated: computed.simulated || simulated, config: redactRows(config), configHash: configHash(config) };
    const swaps = input.swaps ?? swapsByPrefixId(input.swapIndexes ?? {}, rows);
    const truth = Object.fromEntries(rows.map((r) => [r.id, r.suffix]));
    const prefixText = Object.fromEntries(rows.map((r) => [r.id, r.prefix]));
    const sampleIndex = await sampleIndexFromFile(samples.path, inputs, { runId: summary.runId, truth, prefixText });
    const html = await renderReportPage(summary, tally, { truth, prefixText, sampleIndex });
    // A store elsewhere than this directory: config.json is written beside the other artifacts too.
    if (store.ref.kind !== 'file' || dir !== input.storeDir) await staged.write(paths.config, `${JSON.stringify(prepared, null, 2)}\n`);
    await staged.write(paths.swap, `${JSON.stringify(swaps, null, 2)}\n`);
    await staged.write(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    await staged.write(paths.report, renderReport(summary, { power: powerTableOfTally(tally) }));
    await staged.write(paths.html, html);
    await staged.commit();
  } catch (e) {
    await staged.abort();
    throw e;
  }
  // The run is complete: this worker need not keep its texts in memory any longer.
  deps.stores.release(input.store ?? input.storeDir);
  // The workflow's copy of the summary leaves out the config (its texts stay in config.json).
  return { paths, summary: { ...summary, config: null } };
};

function redactRows(config: RunConfig): unknown {
  // summary.json names the rows; their texts are in config.json.
  return { ...config, dataset: { ...config.dataset, rows: undefined, rowIds: config.dataset.rows!.map((r) => r.id) } };
}
