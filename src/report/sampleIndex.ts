// The compact sample index that report.html carries: every distinct text once in a string table, each record as ten
// integers, the whole gzip-compressed and base64-encoded into one inert <script type="application/octet-stream">
// block that the page's own script decompresses (DecompressionStream), so nothing is fetched and nothing is built
// up front. Above a text budget, whole prefixes are kept evenly spaced so that a prefix's conditions stay together.
import { gzipSync } from 'node:zlib';
import { prefixOrder, type ReportRecord } from './charts';

/** Integers per record in `SampleIndex.rows`, in this order. */
export const ROW_FIELDS = ['arm', 'condition', 'prefix', 'sample', 'reward', 'attempts', 'thought', 'suffix', 'judge', 'error'] as const;

/** Reward codes in the index: 0, 1, or 2 for null (an invalid judgment or a failed sample). */
export const REWARD_NULL = 2;

/** What report.html's sample browser reads. */
export interface SampleIndex {
  v: 1;
  runId: string;
  /** Records of the run; `rows` may hold fewer (see `keptPrefixes`). */
  total: number;
  arms: string[];
  conditions: string[];
  prefixes: string[];
  /** String-table index of each prefix's text and true suffix, -1 when unknown. */
  prefixText: number[];
  truth: number[];
  /** Whether the index keeps only some prefixes (the file's sample budget was exceeded). */
  sampled: boolean;
  /** Characters of sample text the file may hold. */
  budget: number;
  /** Characters of sample text (thoughts, suffixes, judge answers) the run's records hold, compared with the budget. */
  text: number;
  strings: string[];
  /** ROW_FIELDS.length integers per record; texts are string-table indexes, error -1 when none. */
  rows: number[];
}

/** Options of the index. */
export interface SampleIndexOptions {
  runId: string;
  truth?: Record<string, string>;
  prefixText?: Record<string, string>;
  /** Characters of sample text the file may hold before it keeps a sample of prefixes (default SAMPLE_TEXT_BUDGET). */
  budget?: number;
}

/**
 * Sample text report.html holds in full: 40 million characters, about three times a 10x run's (20,480 samples, 14
 * million summed over the records); beyond it the file keeps evenly spaced prefixes up to this much and points to `view`.
 */
export const SAMPLE_TEXT_BUDGET = 40_000_000;

/** Builds the index of the records (in their order), keeping whole prefixes within the budget. */
export function buildSampleIndex(records: ReportRecord[], opts: SampleIndexOptions): SampleIndex {
  const meter = new SampleTextMeter();
  for (const r of records) meter.add(r);
  const prefixes = prefixOrder(records);
  const budget = opts.budget ?? SAMPLE_TEXT_BUDGET;
  const builder = new SampleIndexBuilder({ ...opts, prefixes, kept: meter.kept(prefixes, budget), total: records.length, budget, text: meter.total });
  for (const r of records) builder.add(r);
  return builder.finish();
}

/** The sample text of each prefix's records (thought, suffix and judge answer), for choosing which prefixes the file keeps. */
export class SampleTextMeter {
  private readonly chars = new Map<string, number>();
  /** Characters over every record. */
  total = 0;

  add(r: Pick<ReportRecord, 'prefixId' | 'thought' | 'suffix' | 'judge'>): void {
    const n = r.thought.length + r.suffix.length + (r.judge?.raw?.length ?? 0);
    this.chars.set(r.prefixId, (this.chars.get(r.prefixId) ?? 0) + n);
    this.total += n;
  }

  /** The prefixes whose records fit the budget: all of them, or every n-th in run order. */
  kept(prefixes: string[], budget: number): Set<string> {
    if (this.total <= budget) return new Set(prefixes);
    const share = Math.max(1, Math.floor((prefixes.length * budget) / this.total));
    const step = prefixes.length / share;
    const kept = new Set<string>();
    for (let i = 0; i < share; i++) kept.add(prefixes[Math.floor(i * step)]!);
    return kept;
  }
}

/** Builds a sample index from records given one at a time (only those of kept prefixes are held). */
export class SampleIndexBuilder {
  private readonly strings: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly arms: string[] = [];
  private readonly conditions: string[] = [];
  private readonly armIds = new Map<string, number>();
  private readonly condIds = new Map<string, number>();
  private readonly prefixIds: Map<string, number>;
  private readonly rows: number[] = [];

  constructor(private readonly opts: SampleIndexOptions & { prefixes: string[]; kept: Set<string>; total: number; budget: number; text?: number }) {
    this.prefixIds = new Map(opts.prefixes.map((p, i) => [p, i]));
  }

  private str(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  private static at(list: string[], map: Map<string, number>, v: string): number {
    let i = map.get(v);
    if (i === undefined) {
      i = list.length;
      list.push(v);
      map.set(v, i);
    }
    return i;
  }

  add(r: ReportRecord): void {
    if (!this.opts.kept.has(r.prefixId)) return;
    const reward = r.reward === null ? REWARD_NULL : r.reward;
    const error = typeof r.error === 'string' && r.error ? this.str(r.error) : -1;
    const { at } = SampleIndexBuilder;
    this.rows.push(at(this.arms, this.armIds, r.arm), at(this.conditions, this.condIds, r.condition), this.prefixIds.get(r.prefixId)!, r.sample, reward, r.judge?.attempts ?? 0, this.str(r.thought), this.str(r.suffix), this.str(r.judge?.raw ?? ''), error);
  }

  finish(): SampleIndex {
    const { prefixes, kept, truth: truthText, prefixText: prefixTexts } = this.opts;
    const strings = this.strings;
    const rows = this.rows;
    const textOf = (m: Record<string, string> | undefined) => prefixes.map((p) => (kept.has(p) && m?.[p] !== undefined ? this.str(m[p]!) : -1));
    const prefixText = textOf(prefixTexts);
    const truth = textOf(truthText);
    // Sorted, the string table puts similar texts side by side, where gzip finds their repeats (a 10x run's index
    // compresses to about half the size it has in order of appearance).
    const order = strings.map((_, i) => i).sort((a, b) => (strings[a]! < strings[b]! ? -1 : strings[a]! > strings[b]! ? 1 : 0));
    const to = new Int32Array(strings.length);
    order.forEach((from, i) => (to[from] = i));
    const remap = (i: number) => (i < 0 ? i : to[i]!);
    const F = ROW_FIELDS.length;
    for (let o = 0; o < rows.length; o += F) for (let f = 6; f < F; f++) rows[o + f] = remap(rows[o + f]!);
    return {
      v: 1, runId: this.opts.runId, total: this.opts.total, arms: this.arms, conditions: this.conditions, prefixes, prefixText: prefixText.map(remap), truth: truth.map(remap),
      sampled: kept.size < prefixes.length, budget: this.opts.budget, text: this.opts.text ?? 0, strings: order.map((i) => strings[i]!), rows,
    };
  }
}

/** The index as the page embeds it: gzip, then base64 (no '<', so it cannot end its script block). */
export function encodeSampleIndex(index: SampleIndex): string {
  return gzipSync(Buffer.from(JSON.stringify(index), 'utf8'), { level: 6 }).toString('base64');
}
