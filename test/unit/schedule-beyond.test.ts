import type { PlanPrefix } from '../../src/experiment/plan';
import { ArmScheduler, type Batch, type ScheduleOptions } from '../../src/workflows/schedule';

const prefixes = (n: number): PlanPrefix[] => Array.from({ length: n }, (_, i) => ({ id: `p${i}`, index: i }));
const key = (it: { stage: string; prefixIndex: number; sample: number; condition?: string }) => `${it.stage}:${it.prefixIndex}:${it.sample}${it.condition ? `:${it.condition}` : ''}`;

/** Drives a scheduler to the end, finishing running batches in a seeded order, and records what ran before what. */
function drive(s: ArmScheduler, opts: ScheduleOptions, failThought?: (i: number, k: number) => boolean) {
  const done = new Set<string>();
  const running: Batch[] = [];
  const violations: string[] = [];
  const judged = new Map<string, number>();
  let paraphraseLanes = 0;
  let peakParaphrase = 0;
  let x = 7;
  for (let step = 0; step < 100000; step++) {
    for (const b of s.nextBatches()) {
      running.push(b);
      if (b.endpoint === 'paraphrase') {
        paraphraseLanes += b.lanes;
        peakParaphrase = Math.max(peakParaphrase, paraphraseLanes);
        if (new Set(b.items.map((i) => i.condition)).size !== 1) violations.push(`paraphrase batch ${b.seq} mixes conditions`);
      }
      for (const it of b.items) {
        const thought = `thought:${it.prefixIndex}:${it.sample}`;
        if (it.stage === 'paraphrase' && !done.has(thought)) violations.push(`${key(it)} before its thought`);
        if (it.stage === 'suffix' && it.condition === 'trunc' && !done.has(thought)) violations.push(`${key(it)} before its thought`);
        if (it.stage === 'suffix' && it.condition === 'para' && !done.has(`paraphrase:${it.prefixIndex}:${it.sample}:para`)) violations.push(`${key(it)} before its paraphrase`);
      }
    }
    if (running.length === 0) break;
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const [b] = running.splice(x % running.length, 1);
    for (const it of b!.items) done.add(key(it));
    if (b!.endpoint === 'paraphrase') {
      paraphraseLanes -= b!.lanes;
      s.completeParaphrase(b!.seq, b!.items.map((it) => ({ prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition!, error: null })));
    } else if (b!.endpoint === 'judge') {
      s.completeJudge(b!.seq, b!.items.map((it) => {
        const ready = done.has(`suffix:${it.prefixIndex}:${it.sample}:${it.condition}`);
        if (ready) judged.set(key(it), (judged.get(key(it)) ?? 0) + 1);
        return ready
          ? { prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition!, reward: 1 as const, attempts: 1, error: null }
          : { prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition!, reward: null, attempts: 0, error: null, notReady: true as const };
      }));
    } else {
      s.completeGeneration(b!.seq, b!.items.map((it) => (it.stage === 'thought'
        ? { stage: 'thought' as const, prefixIndex: it.prefixIndex, sample: it.sample, error: failThought?.(it.prefixIndex, it.sample) ? 'HTTP 400' : null, thoughtWords: 5 }
        : { stage: 'suffix' as const, prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition!, error: null, thoughtWords: 3, suffixWords: 9 })));
    }
  }
  return { violations, judged, peakParaphrase, done: s.isDone() };
}

const opts = (over: Partial<ScheduleOptions> = {}): ScheduleOptions => ({
  arm: 'a', prefixes: prefixes(6), samples: 3, conditions: ['normal_model_thought', 'blank_thought', 'trunc', 'para'], swap: null,
  armSlots: 3, judgeSlots: 4, maxRequestsPerActivity: 8, judgeLending: true, judgeAhead: true,
  derivedConditions: ['trunc'], paraphrase: { para: 2 }, ...over,
});

test.each([
  ['judging ahead', {}],
  ['judging after generation', { judgeAhead: false, judgeLending: false }],
  ['one request per activity', { maxRequestsPerActivity: 1 }],
])('derived and paraphrased conditions wait for their inputs, and every sample is judged once (%s)', (_name, over) => {
  const o = opts(over);
  const r = drive(new ArmScheduler(o), o);
  expect(r.violations).toEqual([]);
  expect(r.done).toBe(true);
  expect(r.judged.size).toBe(6 * 3 * 4);
  expect([...r.judged.values()].every((n) => n === 1)).toBe(true);
  expect(r.peakParaphrase).toBeLessThanOrEqual(2);
  expect(r.peakParaphrase).toBeGreaterThan(0);
});

test("a failed thought fails its slot's truncated and paraphrased samples, and nothing waits for them", () => {
  const o = opts();
  const s = new ArmScheduler(o);
  const r = drive(s, o, (i, k) => i === 2 && k === 1);
  expect(r.done).toBe(true);
  expect(s.errors().map((e) => e.condition).sort()).toEqual(['normal_model_thought', 'para', 'trunc']);
  expect(r.judged.size).toBe(6 * 3 * 4 - 3);
});
