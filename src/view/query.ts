// The sample browser's query string, checked against the run (unknown arms, conditions and prefixes, bad pages
// and unknown parameters are a 400 naming the parameter and the fix), and the page of matching samples.
import { ViewRequestError } from './errors';
import type { RunSnapshot } from './runData';

/** Samples per page unless `pageSize` says otherwise. */
export const PAGE_SIZE = 100;
/** The most samples a page may hold. */
export const MAX_PAGE_SIZE = 1000;

/** The parameters of a samples query. */
export const SAMPLE_PARAMS = ['arm', 'condition', 'prefix', 'reward', 'invalid', 'q', 'page', 'pageSize'] as const;

/** A checked samples query. */
export interface SampleQuery {
  arm?: string;
  condition?: string;
  prefix?: string;
  reward?: 0 | 1 | null;
  invalid?: boolean;
  /** Lowercased search terms; each must occur in the thought or the suffix. */
  terms: string[];
  q: string;
  page: number;
  pageSize: number;
}

function oneOf(name: string, value: string, known: string[], what: string): string {
  if (known.includes(value)) return value;
  const list = known.length > 12 ? `${known.slice(0, 12).join(', ')}, … (${known.length} in all)` : known.join(', ');
  throw new ViewRequestError(400, `${name}: no ${what} "${value}" in this run; use one of ${list}, or leave ${name} out`);
}

function whole(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ViewRequestError(400, `${name}: must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** Checks a query string against the run; empty values count as absent (what an untouched form field sends). */
export function parseSampleQuery(params: URLSearchParams, run: RunSnapshot): SampleQuery {
  const got = new Map<string, string>();
  for (const [k, v] of params) {
    if (!(SAMPLE_PARAMS as readonly string[]).includes(k)) throw new ViewRequestError(400, `unknown parameter "${k}"; the sample browser takes ${SAMPLE_PARAMS.join(', ')}`);
    if (got.has(k)) throw new ViewRequestError(400, `${k}: given more than once; give it once`);
    if (v !== '') got.set(k, v);
  }
  const q: SampleQuery = { terms: [], q: '', page: 1, pageSize: PAGE_SIZE };
  const v = (k: string) => got.get(k);
  if (v('arm') !== undefined) q.arm = oneOf('arm', v('arm')!, run.config.arms.map((a) => a.name), 'arm');
  if (v('condition') !== undefined) q.condition = oneOf('condition', v('condition')!, run.conditions, 'condition');
  if (v('prefix') !== undefined) q.prefix = oneOf('prefix', v('prefix')!, run.rows.map((r) => r.id), 'prefix id');
  if (v('reward') !== undefined) {
    const r = v('reward')!;
    if (r !== '0' && r !== '1' && r !== 'invalid') throw new ViewRequestError(400, `reward: must be 1, 0 or invalid (no valid judgment), got "${r}"`);
    q.reward = r === 'invalid' ? null : (Number(r) as 0 | 1);
  }
  if (v('invalid') !== undefined) {
    const r = v('invalid')!;
    if (r !== 'true' && r !== 'false') throw new ViewRequestError(400, `invalid: must be true (only samples whose judgment is invalid) or false (only valid ones), got "${r}"`);
    q.invalid = r === 'true';
  }
  if (v('q') !== undefined) {
    q.q = v('q')!;
    if (q.q.length > 500) throw new ViewRequestError(400, `q: at most 500 characters of search terms, got ${q.q.length}`);
    q.terms = q.q.toLowerCase().split(/\s+/).filter(Boolean);
  }
  if (v('pageSize') !== undefined) q.pageSize = whole('pageSize', v('pageSize')!, 1, MAX_PAGE_SIZE);
  if (v('page') !== undefined) q.page = whole('page', v('page')!, 1, Number.MAX_SAFE_INTEGER);
  return q;
}

/** One page of the samples matching a query. */
export interface SamplePage {
  /** Positions of the run's planned samples (RunSnapshot positions), in order. */
  items: number[];
  /** Samples that match, over every page. */
  matching: number;
  pages: number;
}

/**
 * The page a query asks for, from the run's index (a search asks the store which samples hold its terms); a page past
 * the last one (when anything matches) is a 400 naming the last page.
 */
export async function samplePage(run: RunSnapshot, q: SampleQuery): Promise<SamplePage> {
  const filtered = q.terms.length > 0 || q.arm !== undefined || q.condition !== undefined || q.prefix !== undefined || q.reward !== undefined || q.invalid !== undefined;
  if (run.complete && !filtered) {
    // A completed run lists every planned sample in order: the page is known without reading the store.
    const pages = Math.max(1, Math.ceil(run.positions / q.pageSize));
    if (q.page > pages) throw new ViewRequestError(400, `page: ${q.page} is past the last page (${pages}) of ${run.positions} matching samples at ${q.pageSize} a page`);
    const from = (q.page - 1) * q.pageSize;
    return { items: Array.from({ length: Math.max(0, Math.min(q.pageSize, run.positions - from)) }, (_, i) => from + i), matching: run.positions, pages };
  }
  await run.ready();
  const found = q.terms.length ? await run.search(q.terms) : undefined;
  const arm = q.arm;
  const condition = q.condition;
  const prefix = q.prefix;
  let matching = 0;
  const from = (q.page - 1) * q.pageSize;
  const items: number[] = [];
  for (let p = 0; p < run.positions; p++) {
    if (!run.listed(p) || (found && found[p] !== 1)) continue;
    if (q.reward !== undefined && run.reward(p) !== q.reward) continue;
    if (q.invalid !== undefined && !run.valid(p) !== q.invalid) continue;
    if (arm !== undefined || condition !== undefined || prefix !== undefined) {
      const s = run.sampleAt(p);
      if ((arm !== undefined && s.arm !== arm) || (condition !== undefined && s.condition !== condition) || (prefix !== undefined && s.prefixId !== prefix)) continue;
    }
    if (matching >= from && items.length < q.pageSize) items.push(p);
    matching++;
  }
  const pages = Math.max(1, Math.ceil(matching / q.pageSize));
  if (q.page > pages) throw new ViewRequestError(400, `page: ${q.page} is past the last page (${pages}) of ${matching} matching samples at ${q.pageSize} a page`);
  return { items, matching, pages };
}
