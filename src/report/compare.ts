// A paired comparison of two runs on their shared prefixes (e.g. the same arm before and after training).
// Pure: records in, numbers out (no I/O, no Node built-ins); `thought-probe compare` reads and writes files.
import { comparePaired, orderConditions, pairPrefixMeans } from '../experiment/metrics';
import { formatRate, formatSigned } from '../experiment/format';
import { hash32 } from '../experiment/rng';
import { RecordTally, tallyRecords } from '../experiment/tally';

/** What the comparison reads of a record (the required fields of samples.jsonl). */
export interface CompareRecord {
  arm: string;
  condition: string;
  prefixId: string;
  reward: 0 | 1 | null;
}

/** Which arms to compare: every arm present in both runs (default), chosen arms, or one arm of A against one of B. */
export interface CompareOptions {
  arms?: string[];
  armA?: string;
  armB?: string;
  /** Seed of the bootstrap and permutation draws (default 4337). */
  seed?: number;
  /** Bootstrap draws (default 10,000). */
  draws?: number;
}

/** A bad request, naming the command-line argument it came from. */
export class CompareError extends Error {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
    this.name = 'CompareError';
  }
}

/** One condition of one arm pair, B against A over the prefixes both runs have a valid record for. */
export interface ConditionComparison {
  condition: string;
  /** Prefixes with at least one valid record in A, in B, and in both. */
  prefixesA: number;
  prefixesB: number;
  sharedPrefixes: number;
  /** Mean of all valid rewards of each run (every prefix, as summary.json's rewardMean). */
  rewardMeanA: number | null;
  rewardMeanB: number | null;
  /** Mean prefix mean reward over the shared prefixes; diff = meanB − meanA. */
  meanA: number | null;
  meanB: number | null;
  diff: number | null;
  /** 95% paired bootstrap interval of diff over shared prefixes. */
  ci: [number, number] | null;
  /** Two-sided sign-flip permutation p-value of diff. */
  pPermutation: number | null;
  /** Shared prefixes where B's prefix mean is above, below or equal to A's. */
  wins: number;
  losses: number;
  ties: number;
  /** Exact two-sided sign test of wins against losses. */
  pSignTest: number | null;
  /** Prefix-level any-success: in both runs, only in A, only in B, in neither; exact McNemar on (onlyA, onlyB). */
  anySuccess: { both: number; onlyA: number; onlyB: number; neither: number; pMcNemar: number | null };
}

/** The comparison of arm `armA` of run A with arm `armB` of run B. */
export interface ArmComparison {
  armA: string;
  armB: string;
  conditions: ConditionComparison[];
  /** Conditions run for this arm in only one of the two runs (not compared). */
  onlyInA: string[];
  onlyInB: string[];
}

/** Everything `compare` computes. */
export interface CompareResult {
  seed: number;
  draws: number;
  comparisons: ArmComparison[];
}

/** Records, or the tally of a run's records read as a stream (what `compare` of two large runs holds). */
const tallyOf = (x: CompareRecord[] | RecordTally): RecordTally => (x instanceof RecordTally ? x : tallyRecords(x));

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** Valid rewards of one arm, by condition then prefix (prefixes in order of their first valid reward). */
function rewardsBy(tally: RecordTally, arm: string): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  for (const [condition, c] of tally.arms.get(arm)?.conditions ?? []) out.set(condition, new Map(c.main.order.map((p) => [p, c.main.cells.get(p)!.rewards])));
  return out;
}

/** B against A for one condition, from each run's valid rewards by prefix. */
function compareCondition(condition: string, a: Map<string, number[]>, b: Map<string, number[]>, seed: number, draws: number): ConditionComparison {
  const prefixMeansOf = (byPrefix: Map<string, number[]>) => new Map([...byPrefix].map(([p, rewards]) => [p, mean(rewards)!]));
  // x is B and y is A, so the paired difference is B − A.
  const c = comparePaired(pairPrefixMeans(prefixMeansOf(b), prefixMeansOf(a)), { seed, bootstrapDraws: draws });
  const any = c.anySuccess;
  return {
    condition,
    prefixesA: a.size,
    prefixesB: b.size,
    sharedPrefixes: c.prefixes,
    rewardMeanA: mean([...a.values()].flat()),
    rewardMeanB: mean([...b.values()].flat()),
    meanA: c.meanY,
    meanB: c.meanX,
    diff: c.mean,
    ci: c.ci,
    pPermutation: c.pPermutation,
    wins: c.wins,
    losses: c.losses,
    ties: c.ties,
    pSignTest: c.pSignTest,
    anySuccess: { both: any.both, onlyA: any.onlyY, onlyB: any.onlyX, neither: any.neither, pMcNemar: any.pMcNemar },
  };
}

/** Which (arm of A, arm of B) pairs to compare; a CompareError names the argument that asks for the impossible. */
export function armPairs(a: CompareRecord[] | RecordTally, b: CompareRecord[] | RecordTally, opts: CompareOptions): { armA: string; armB: string }[] {
  const inA = tallyOf(a).armNames();
  const inB = tallyOf(b).armNames();
  const list = (xs: string[]) => xs.map((x) => `"${x}"`).join(', ');
  if (opts.armA !== undefined || opts.armB !== undefined) {
    if (opts.arms?.length) throw new CompareError('--arm', '--arm cannot be combined with --arm-a/--arm-b');
    if (opts.armA === undefined) throw new CompareError('--arm-a', '--arm-a is required with --arm-b');
    if (opts.armB === undefined) throw new CompareError('--arm-b', '--arm-b is required with --arm-a');
    if (!inA.includes(opts.armA)) throw new CompareError('--arm-a', `arm "${opts.armA}" is not in RUN_A (its arms: ${list(inA)})`);
    if (!inB.includes(opts.armB)) throw new CompareError('--arm-b', `arm "${opts.armB}" is not in RUN_B (its arms: ${list(inB)})`);
    return [{ armA: opts.armA, armB: opts.armB }];
  }
  if (opts.arms?.length) {
    for (const arm of opts.arms) {
      if (!inA.includes(arm)) throw new CompareError('--arm', `arm "${arm}" is not in RUN_A (its arms: ${list(inA)})`);
      if (!inB.includes(arm)) throw new CompareError('--arm', `arm "${arm}" is not in RUN_B (its arms: ${list(inB)})`);
    }
    return [...new Set(opts.arms)].map((arm) => ({ armA: arm, armB: arm }));
  }
  const both = inA.filter((x) => inB.includes(x));
  if (both.length === 0) throw new CompareError('RUN_B', `no arm is in both runs (RUN_A: ${list(inA)}; RUN_B: ${list(inB)}); choose two with --arm-a and --arm-b`);
  return both.map((arm) => ({ armA: arm, armB: arm }));
}

/** Compares run B with run A, per arm pair and per condition both ran, paired over their shared prefixes. */
export function compareRuns(recordsA: CompareRecord[] | RecordTally, recordsB: CompareRecord[] | RecordTally, opts: CompareOptions = {}): CompareResult {
  const seed = opts.seed ?? 4337;
  const draws = opts.draws ?? 10000;
  const a = tallyOf(recordsA);
  const b = tallyOf(recordsB);
  const comparisons = armPairs(a, b, opts).map(({ armA, armB }) => {
    const ra = rewardsBy(a, armA);
    const rb = rewardsBy(b, armB);
    const conds = orderConditions([...ra.keys()].filter((c) => rb.has(c)));
    return {
      armA,
      armB,
      conditions: conds.map((c) => compareCondition(c, ra.get(c)!, rb.get(c)!, hash32(`${seed}|compare|${armA}|${armB}|${c}`), draws)),
      onlyInA: orderConditions([...ra.keys()].filter((c) => !rb.has(c))),
      onlyInB: orderConditions([...rb.keys()].filter((c) => !ra.has(c))),
    };
  });
  return { seed, draws, comparisons };
}

const code = (s: string) => `\`${s}\``;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const fmtCI = (ci: [number, number] | null) => (ci ? `[${formatSigned(ci[0])}, ${formatSigned(ci[1])}]` : 'n/a');
const fmtP = (p: number | null) => (p === null ? 'n/a' : p < 0.0001 ? '<0.0001' : formatRate(p));

/** The comparison as markdown: one table per arm pair, one row per condition. */
export function renderCompareMarkdown(result: CompareResult, labels: { a: string; b: string }): string {
  const out: string[] = [];
  out.push('# Paired run comparison: B − A', '');
  out.push(`- A: ${code(labels.a)}`, `- B: ${code(labels.b)}`, '');
  out.push(
    `Per condition, over the prefixes with a valid record in both runs: mean prefix reward of A and B, B − A with a 95% paired bootstrap interval over the shared prefixes (${result.draws.toLocaleString('en-US')} draws, seed ${result.seed}) and a sign-flip permutation p-value, prefixes where B beats, loses to or ties A with an exact sign test, and an exact McNemar test on prefix-level any-success.`,
    '',
  );
  for (const c of result.comparisons) {
    out.push(c.armA === c.armB ? `## ${code(c.armA)}` : `## ${code(c.armA)} (A) vs ${code(c.armB)} (B)`, '');
    if (c.conditions.length === 0) out.push('No condition was run for this arm in both runs.', '');
    else {
      out.push(row(['Condition', 'Shared prefixes', 'A mean', 'B mean', 'B − A', '95% CI', 'p (permutation)', 'B wins / losses / ties', 'p (sign test)', 'Any-success only A / only B', 'p (McNemar)']));
      out.push(row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
      for (const k of c.conditions) {
        out.push(
          row([code(k.condition), String(k.sharedPrefixes), formatRate(k.meanA), formatRate(k.meanB), formatSigned(k.diff), fmtCI(k.ci), fmtP(k.pPermutation), `${k.wins} / ${k.losses} / ${k.ties}`, fmtP(k.pSignTest), `${k.anySuccess.onlyA} / ${k.anySuccess.onlyB}`, fmtP(k.anySuccess.pMcNemar)]),
        );
      }
      out.push('');
    }
    if (c.onlyInA.length) out.push(`Only in A (not compared): ${c.onlyInA.map(code).join(', ')}.`, '');
    if (c.onlyInB.length) out.push(`Only in B (not compared): ${c.onlyInB.map(code).join(', ')}.`, '');
  }
  return out.join('\n');
}
