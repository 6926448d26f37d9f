import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../src/config/schema';
import { planCounts } from '../../src/experiment/plan';
import type { SimStats } from '../../src/sim';

/** What a run's plan fixes: requests per endpoint (without retries) and records. */
export interface RunPlan {
  /** Thoughts and suffixes, summed over arms. */
  armRequests: number;
  judgeRequests: number;
  records: number;
  /** Every planned record key, `arm/condition/prefixId/sample`. */
  keys: string[];
}

/** The plan of a resolved config: arms x conditions x prefixes x samples. */
export function planOf(config: RunConfig): RunPlan {
  const rows = config.dataset.rows!.slice(0, config.dataset.limit);
  const per = planCounts(rows.length, config.samplesPerPrefix, config.conditions);
  const keys: string[] = [];
  for (const arm of config.arms) {
    for (const condition of config.conditions) {
      for (const row of rows) {
        for (let k = 0; k < config.samplesPerPrefix; k++) keys.push(`${arm.name}/${condition}/${row.id}/${k}`);
      }
    }
  }
  return {
    armRequests: config.arms.length * (per.thoughts + per.suffixes),
    judgeRequests: config.arms.length * per.judgments,
    records: keys.length,
    keys,
  };
}

/** Counts of a finished run, each one comparable with the plan. */
export interface RunAudit {
  /** Requests the sim saw for the arms' models (including failed ones). */
  armRequests: number;
  /** Arm requests the sim answered in full. */
  armCompleted: number;
  /** Arm requests the sim counted as failed (injected faults, dropped connections). */
  armErrors: number;
  /** Arm requests that asked for a stream (the rest asked for whole answers). */
  armStreamed: number;
  judgeRequests: number;
  judgeCompleted: number;
  judgeErrors: number;
  /** Lines of samples.jsonl. */
  records: number;
  /** Lines whose key appeared on an earlier line. */
  duplicates: number;
  /** Planned keys without an error-free record. */
  lost: number;
  /** Keys in samples.jsonl that the plan does not have. */
  unplanned: number;
  /** Error-free records whose judgment is invalid (reward null). */
  invalid: number;
  /** Records with an error. */
  errors: number;
  /** Judge calls the records say they took (sum of judge.attempts): answered calls, invalid ones included. */
  judgeCalls: number;
  /** Lines of the append-only store (all arms) and how many repeat a key: 0 means nothing was stored twice. */
  store: { thoughts: number; suffixes: number; records: number; repeatedKeys: number };
  /** Generations kept in the store that took at least this long (ms), worst first: a stalled stream shows here. */
  slowGenerations(minMs: number): { kind: string; key: string; ms: number; words: number }[];
}

function jsonl(file: string): Record<string, unknown>[] {
  if (!existsSync(file)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line torn by a killed writer: the store ignores it too (the entry is redone).
    }
  }
  return out;
}

/** Distinct entries in a run's store (thoughts, suffixes and records over all arms): each one is an answered model request kept. */
export function storedEntries(config: RunConfig, runDir: string): number {
  let n = 0;
  for (const arm of config.arms) {
    for (const kind of ['thoughts', 'suffixes', 'records']) {
      n += new Set((jsonl(join(runDir, 'store', arm.name, `${kind}.jsonl`)) as { key: string }[]).map((e) => e.key)).size;
    }
  }
  return n;
}

/** Audits a finished run: the sim's counters, samples.jsonl and the run's store, against the plan. */
export function auditRun(config: RunConfig, plan: RunPlan, runDir: string, stats: SimStats): RunAudit {
  const model = (m: string) => stats.models[m] ?? { requests: 0, completed: 0, errors: 0 };
  const arms = config.arms.map((a) => model(a.model));
  const judge = model(config.judge.model);
  const samples = auditSamples(join(runDir, 'samples.jsonl'), plan);
  const store = { thoughts: 0, suffixes: 0, records: 0, repeatedKeys: 0 };
  const generations: { kind: string; key: string; ms: number; words: number }[] = [];
  for (const arm of config.arms) {
    for (const kind of ['thoughts', 'suffixes', 'records'] as const) {
      const entries = jsonl(join(runDir, 'store', arm.name, `${kind}.jsonl`)) as { key: string; ms?: number; thought?: string; suffix?: string }[];
      store[kind] += entries.length;
      if (kind !== 'records') {
        for (const e of entries) {
          const text = (kind === 'thoughts' ? e.thought : e.suffix) ?? '';
          generations.push({ kind: `${arm.name}/${kind}`, key: e.key, ms: e.ms ?? 0, words: text.split(/\s+/).filter(Boolean).length });
        }
      }
      store.repeatedKeys += entries.length - new Set(entries.map((e) => e.key)).size;
    }
  }
  return {
    armRequests: arms.reduce((a, s) => a + s.requests, 0),
    armCompleted: arms.reduce((a, s) => a + s.completed, 0),
    armErrors: arms.reduce((a, s) => a + s.errors, 0),
    armStreamed: arms.reduce((a, s) => a + (s.streamed ?? 0), 0),
    judgeRequests: judge.requests,
    judgeCompleted: judge.completed,
    judgeErrors: judge.errors,
    ...samples,
    store,
    slowGenerations: (minMs) => generations.filter((g) => g.ms >= minMs).sort((a, b) => b.ms - a.ms),
  };
}

/** What a samples.jsonl says against the plan. */
export interface SamplesAudit {
  records: number;
  /** Lines whose key appeared on an earlier line. */
  duplicates: number;
  /** Planned keys without an error-free record. */
  lost: number;
  unplanned: number;
  invalid: number;
  errors: number;
  /** Judge calls the records say they took (sum of judge.attempts). */
  judgeCalls: number;
}

/** Audits a samples.jsonl (missing file: every planned key lost). */
export function auditSamples(file: string, plan: RunPlan): SamplesAudit {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()) : [];
  const seen = new Set<string>();
  const good = new Set<string>();
  const out: SamplesAudit = { records: lines.length, duplicates: 0, lost: 0, unplanned: 0, invalid: 0, errors: 0, judgeCalls: 0 };
  for (const line of lines) {
    const r = JSON.parse(line) as { arm: string; condition: string; prefixId: string; sample: number; reward: 0 | 1 | null; error: string | null; judge: { valid: boolean; attempts: number } };
    out.judgeCalls += r.judge.attempts;
    const key = `${r.arm}/${r.condition}/${r.prefixId}/${r.sample}`;
    if (seen.has(key)) out.duplicates++;
    seen.add(key);
    if (r.error !== null) {
      out.errors++;
      continue;
    }
    good.add(key);
    if (r.reward === null || !r.judge.valid) out.invalid++;
  }
  const planned = new Set(plan.keys);
  out.lost = plan.keys.filter((k) => !good.has(k)).length;
  out.unplanned = [...seen].filter((k) => !planned.has(k)).length;
  return out;
}

/** One line of the table a fault suite prints after it runs: what was injected and what was counted. */
export interface AuditRow {
  scenario: string;
  injected: string;
  arm: string;
  judge: string;
  records: string;
  duplicates: number;
  /** Invalid judgments, where the suite injects them. */
  invalid?: number;
  lost: number;
  extra: string;
  seconds: string;
  status: 'pass' | 'FAIL';
}
