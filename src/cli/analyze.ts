import { statSync } from 'node:fs';
import { SampleRecordCoreSchema, type SampleRecordCore } from '../experiment/records';
import { judgeAgreementOfTally, type JudgedRecord } from '../experiment/judges';
import type { Judgment } from '../experiment/agreement';
import { jsonlLines, parseJsonlLine } from '../config/jsonl';
import { summaryOfTally } from '../experiment/summary';
import { renderReport } from '../experiment/report';
import { powerTableOfTally } from '../experiment/power';
import { INTERVENTION_KINDS, type InterventionKind } from '../experiment/interventions';
import { renderReportPage } from '../report';
import { ReportInputs, sampleIndexFromFile } from '../report/inputs';
import { InputError } from './errors';
import { writeFilesAtomically } from './io';

/** What one streaming pass over a samples.jsonl gathers: the tally of its records and what its records name. */
export interface SamplesFile {
  file: string;
  inputs: ReportInputs;
  /** Run ids the records name, in order of first appearance. */
  runIds: string[];
  /** Conditions of configured interventions, in order of first appearance. */
  interventionOrder: string[];
  /** The kind of each configured intervention's condition. */
  interventions: Record<string, { intervention: InterventionKind }>;
  simulated: boolean;
}

/**
 * Reads a samples.jsonl as a stream, relying only on the required fields, into a tally (memory grows with prefixes,
 * not with records); bad lines are an InputError naming up to 20 of them, and nothing is written.
 */
export async function readSamplesFile(file: string): Promise<SamplesFile> {
  try {
    if (!statSync(file).isFile()) throw new InputError(`--samples: ${file} is not a file`);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`--samples: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const inputs = new ReportInputs();
  const runIds = new Set<string>();
  const order = new Set<string>();
  const interventions = new Map<string, { intervention: InterventionKind }>();
  let simulated = false;
  const problems: string[] = [];
  let bad = 0;
  for await (const { line, text } of jsonlLines(file)) {
    const parsed = parseJsonlLine(text, line, file, SampleRecordCoreSchema, 'record');
    if ('problem' in parsed) {
      if (problems.length < 20) problems.push(parsed.problem);
      bad++;
      continue;
    }
    if (bad > 0) continue;
    const r = parsed.value;
    if (typeof r.runId === 'string') runIds.add(r.runId);
    // Records of configured interventions name their kind (their parameters are in the run's config.json).
    if (typeof r.intervention === 'string') {
      order.add(r.condition);
      if ((INTERVENTION_KINDS as readonly string[]).includes(r.intervention)) interventions.set(r.condition, { intervention: r.intervention as InterventionKind });
    }
    simulated ||= r.simulated === true;
    inputs.add(r, judgedView(r));
  }
  if (bad > 0) {
    const more = bad > problems.length ? `\n  … and ${bad - problems.length} more bad lines` : '';
    throw new InputError(`malformed samples file; nothing was written\n${problems.map((p) => `  ${p}`).join('\n')}${more}`);
  }
  if (inputs.tally.records === 0) throw new InputError(`--samples: ${file} holds no records`);
  return { file, inputs, runIds: [...runIds], interventionOrder: [...order], interventions: Object.fromEntries(interventions), simulated };
}

const isJudgments = (x: unknown): x is Judgment[] =>
  Array.isArray(x) && x.every((j) => typeof j === 'object' && j !== null && [0, 1, null].includes((j as Judgment).score));

/** A record's several judgments, where it has them in the shape the probe writes (anything else is left out). */
function judgedView(r: SampleRecordCore): JudgedRecord {
  const judges: JudgedRecord['judges'] = {};
  if (typeof r.judges === 'object' && r.judges !== null) {
    for (const [name, v] of Object.entries(r.judges as Record<string, { reward?: unknown; judgments?: unknown }>)) {
      if (v && [0, 1, null].includes(v.reward as 0 | 1 | null) && isJudgments(v.judgments)) judges[name] = { reward: v.reward as 0 | 1 | null, judgments: v.judgments };
    }
  }
  return { ...r, judgments: isJudgments(r.judgments) ? r.judgments : undefined, judges: Object.keys(judges).length > 0 ? judges : undefined };
}

/** `thought-probe analyze` (its arguments and options are in ./commands, which loads this module to run it). */
export async function analyzeCommand(opts: { samples: string; out: string; runId: string }): Promise<void> {
  const read = await readSamplesFile(opts.samples);
  const { tally } = read.inputs;
  const summary = summaryOfTally(tally, {
    runId: read.runIds.length === 1 ? read.runIds[0]! : opts.runId,
    runIds: read.runIds.length ? read.runIds : [opts.runId],
    simulated: read.simulated,
    conditionOrder: read.interventionOrder,
    judgeAgreement: judgeAgreementOfTally(tally, { conditionOrder: read.interventionOrder }),
    interventions: read.interventions,
  });
  // The sample browser's records are read again from the file, only those of the prefixes the page keeps.
  const sampleIndex = await sampleIndexFromFile(opts.samples, read.inputs, { runId: summary.runId });
  const html = await renderReportPage(summary, tally, { sampleIndex });
  const md = renderReport(summary, { power: powerTableOfTally(tally) });
  const written = writeFilesAtomically(opts.out, {
    'summary.json': `${JSON.stringify(summary, null, 2)}\n`,
    'report.md': md,
    'report.html': html,
  });
  process.stdout.write(`${md}\nwrote ${written.join(', ')}\n`);
}
