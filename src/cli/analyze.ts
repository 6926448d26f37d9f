import { readFileSync } from 'node:fs';
import { SampleRecordCoreSchema, type SampleRecordCore } from '../experiment/records';
import { judgeAgreement, type JudgedRecord } from '../experiment/judges';
import type { Judgment } from '../experiment/agreement';
import { parseJsonl } from '../config/jsonl';
import { scoreRecord } from '../experiment/metrics';
import { buildSummary } from '../experiment/summary';
import { renderReport } from '../experiment/report';
import { powerTable } from '../experiment/power';
import { INTERVENTION_KINDS, type InterventionKind } from '../experiment/interventions';
import { renderReportHtml } from '../report';
import { InputError } from './errors';
import { writeFilesAtomically } from './io';

/** Reads samples.jsonl, relying only on the required fields; a bad line is an InputError naming its number. */
export function readSamples(file: string) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`--samples: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const { values: records, problems } = parseJsonl(text, file, SampleRecordCoreSchema, 'record');
  if (problems.length) throw new InputError(`malformed samples file; nothing was written\n${problems.slice(0, 20).map((p) => `  ${p}`).join('\n')}`);
  if (records.length === 0) throw new InputError(`--samples: ${file} holds no records`);
  return records;
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
  const records = readSamples(opts.samples);
  const runIds = [...new Set(records.map((r) => (typeof r.runId === 'string' ? r.runId : null)).filter((x): x is string => x !== null))];
  const order = records.flatMap((r) => (typeof r.intervention === 'string' ? [r.condition] : []));
  const summary = buildSummary(records.map(scoreRecord), {
    runId: runIds.length === 1 ? runIds[0]! : opts.runId,
    runIds: runIds.length ? runIds : [opts.runId],
    simulated: records.some((r) => r.simulated === true),
    // Records of configured interventions name their kind (their parameters are in the run's config.json).
    conditionOrder: order,
    judgeAgreement: judgeAgreement(records.map(judgedView), { conditionOrder: order }),
    interventions: Object.fromEntries(
      records.flatMap((r) => (typeof r.intervention === 'string' && (INTERVENTION_KINDS as readonly string[]).includes(r.intervention) ? [[r.condition, { intervention: r.intervention as InterventionKind }]] : [])),
    ),
  });
  const html = await renderReportHtml(summary, records);
  const md = renderReport(summary, { power: powerTable(records.map(scoreRecord)) });
  const written = writeFilesAtomically(opts.out, {
    'summary.json': `${JSON.stringify(summary, null, 2)}\n`,
    'report.md': md,
    'report.html': html,
  });
  process.stdout.write(`${md}\nwrote ${written.join(', ')}\n`);
}
