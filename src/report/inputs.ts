// What a run's report needs of its records, gathered in one pass over them (from the store or a samples.jsonl), and
// the sample index read back from the samples.jsonl just written: so summary.json, report.md and report.html are made
// for a run of any size with its records' texts never all in memory at once.
import { jsonlLines } from '../config/jsonl';
import { RecordTally, type TallyRecord } from '../experiment/tally';
import type { ReportRecord } from './charts';
import { SAMPLE_TEXT_BUDGET, SampleIndexBuilder, SampleTextMeter, type SampleIndex, type SampleIndexOptions } from './sampleIndex';

/** The tally of a run's records and the size of their texts by prefix. */
export class ReportInputs {
  readonly tally = new RecordTally();
  readonly meter = new SampleTextMeter();

  /** Adds a record; `judged` is what the statistics read of it, when that differs from the record as written. */
  add(r: ReportRecord, judged: TallyRecord = r): void {
    this.tally.add(judged);
    this.meter.add(r);
  }
}

/** The sample index of a run's records as a samples.jsonl holds them, read as a stream: only kept prefixes' records are held. */
export async function sampleIndexFromFile(file: string, inputs: ReportInputs, opts: SampleIndexOptions): Promise<SampleIndex> {
  const prefixes = inputs.tally.prefixOrder();
  const budget = opts.budget ?? SAMPLE_TEXT_BUDGET;
  const kept = inputs.meter.kept(prefixes, budget);
  const builder = new SampleIndexBuilder({ ...opts, prefixes, kept, total: inputs.tally.records, budget, text: inputs.meter.total });
  for await (const { text } of jsonlLines(file)) {
    const r = JSON.parse(text) as ReportRecord;
    if (kept.has(r.prefixId)) builder.add(r);
  }
  return builder.finish();
}
