import type { Condition } from '../../src/experiment/conditions';
import type { PlanPrefix, WorkItem } from '../../src/experiment/plan';
import { ArmScheduler, type Batch, type GenerationResult, type JudgeResult, type ScheduleOptions } from '../../src/workflows/schedule';

const N: Condition = 'normal_model_thought';
const B: Condition = 'blank_thought';
const G: Condition = 'generic_thought';
const S: Condition = 'same_arm_swapped_thought';
const ALL: Condition[] = [N, B, G, S];

const prefixes = (n: number): PlanPrefix[] => Array.from({ length: n }, (_, i) => ({ id: `p${i}`, index: i }));

const key = (it: { stage: string; prefixIndex: number; sample: number; condition?: string }) =>
  `${it.stage}:${it.prefixIndex}:${it.sample}${it.condition ? `:${it.condition}` : ''}`;

interface DriveOptions {
  /** Picks which running batch finishes next (index into the running list). */
  pick?: (running: number, step: number) => number;
  /** A thought result's error, or null for success. */
  thoughtError?: (prefixIndex: number, sample: number) => string | null;
  /** A suffix result's error, or null for success. */
  suffixError?: (prefixIndex: number, sample: number, condition: Condition) => string | null;
}

interface DriveLog {
  batches: Batch[];
  scheduled: Map<string, number>;
  violations: string[];
  maxInFlight: { arm: number; judge: number };
  /** Judgments made (not counting those sent back as not ready), by key. */
  judged: Map<string, number>;
  /** Judge items sent back because their suffix was not there yet. */
  notReady: number;
}

/** Runs the scheduler to the end with a synchronous fake loop: no Temporal, results made up on the spot. */
function drive(s: ArmScheduler, opts: ScheduleOptions, d: DriveOptions = {}): DriveLog {
  const pick = d.pick ?? (() => 0);
  const log: DriveLog = { batches: [], scheduled: new Map(), violations: [], maxInFlight: { arm: 0, judge: 0 }, judged: new Map(), notReady: 0 };
  const completed = new Set<string>();
  const running: Batch[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) log.violations.push(what);
  };
  for (let step = 0; step < 100000; step++) {
    for (const b of s.nextBatches()) {
      log.batches.push(b);
      running.push(b);
      check(b.items.length >= 1, `batch ${b.seq} is empty`);
      check(b.items.length <= opts.maxRequestsPerActivity, `batch ${b.seq} has ${b.items.length} items`);
      for (const it of b.items) {
        const k = key(it);
        log.scheduled.set(k, (log.scheduled.get(k) ?? 0) + 1);
        check((it.stage === 'judge') === (b.endpoint === 'judge'), `${k} sent to ${b.endpoint}`);
        if (it.stage === 'suffix' && it.condition === N) check(completed.has(`thought:${it.prefixIndex}:${it.sample}`), `${k} before its thought`);
        if (it.stage === 'suffix' && it.condition === S) {
          const donor = opts.swap![it.prefixIndex]!;
          check(it.thoughtSource?.prefixIndex === donor, `${k} has donor ${it.thoughtSource?.prefixIndex}, expected ${donor}`);
          check(completed.has(`thought:${donor}:${it.sample}`), `${k} before thought (${donor}, ${it.sample})`);
        }
        // Judging ahead, a judgment may be sent before its suffix exists (the activity waits for it).
        if (it.stage === 'judge' && !opts.judgeAhead) check(completed.has(`suffix:${it.prefixIndex}:${it.sample}:${it.condition}`), `${k} before its suffix`);
      }
    }
    const lanes = { arm: 0, judge: 0, paraphrase: 0 };
    for (const b of running) lanes[b.endpoint] += b.lanes;
    check(lanes.arm <= opts.armSlots, `arm lanes ${lanes.arm} > ${opts.armSlots}`);
    check(lanes.judge <= opts.judgeSlots, `judge lanes ${lanes.judge} > ${opts.judgeSlots}`);
    check(s.progress().inFlight.arm === lanes.arm && s.progress().inFlight.judge === lanes.judge, 'progress().inFlight disagrees');
    log.maxInFlight.arm = Math.max(log.maxInFlight.arm, lanes.arm);
    log.maxInFlight.judge = Math.max(log.maxInFlight.judge, lanes.judge);
    if (running.length === 0) return log;
    check(!s.isDone(), 'isDone while batches run');
    const [b] = running.splice(pick(running.length, step), 1);
    finish(s, b!, completed, d, log);
  }
  throw new Error('the schedule did not finish');
}

function finish(s: ArmScheduler, b: Batch, completed: Set<string>, d: DriveOptions, log: DriveLog): void {
  if (b.endpoint === 'judge') {
    const results: JudgeResult[] = b.items.map((it) => {
      const base = { prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition! };
      // As the judge activity does: a suffix not stored (yet, or ever) comes back not ready.
      if (!completed.has(`suffix:${it.prefixIndex}:${it.sample}:${it.condition}`) || failedSuffix(d, it)) {
        log.notReady++;
        return { ...base, reward: null, attempts: 0, error: null, notReady: true as const };
      }
      completed.add(key(it));
      log.judged.set(key(it), (log.judged.get(key(it)) ?? 0) + 1);
      // Blank judgments are invalid; the others alternate 1, 0 by (i + k).
      return { ...base, reward: it.condition === B ? null : ((it.prefixIndex + it.sample) % 2 === 0 ? 1 : 0), attempts: 1, error: null };
    });
    s.completeJudge(b.seq, results);
    return;
  }
  const results: GenerationResult[] = b.items.map((it: WorkItem) =>
    it.stage === 'thought'
      ? { stage: 'thought', prefixIndex: it.prefixIndex, sample: it.sample, error: d.thoughtError?.(it.prefixIndex, it.sample) ?? null, thoughtWords: 7 }
      : { stage: 'suffix', prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition, error: failedSuffix(d, it) ? 'HTTP 400' : null, thoughtWords: it.condition === B ? 0 : 7, suffixWords: 9 },
  );
  for (const it of b.items) completed.add(key(it));
  s.completeGeneration(b.seq, results);
}

function failedSuffix(d: DriveOptions, it: WorkItem): boolean {
  return it.stage !== 'thought' && (d.suffixError?.(it.prefixIndex, it.sample, it.condition!) ?? null) !== null;
}

/** A small deterministic generator, so completions arrive out of order. */
function lcgPick(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % n;
  };
}

function options(over: Partial<ScheduleOptions> = {}): ScheduleOptions {
  return {
    arm: 'think_base',
    prefixes: prefixes(5),
    samples: 3,
    conditions: ALL,
    swap: [1, 2, 3, 4, 0],
    armSlots: 4,
    judgeSlots: 3,
    maxRequestsPerActivity: 32,
    ...over,
  };
}

/** Slot and completion-order variants every schedule must handle: name, option overrides, pick seed (-1: FIFO). */
const setups: [string, Partial<ScheduleOptions>, number][] = [
  ['FIFO completions', {}, -1],
  ['out-of-order completions', {}, 7],
  ['one slot each', { armSlots: 1, judgeSlots: 1 }, 3],
  ['many slots', { armSlots: 16, judgeSlots: 32 }, 11],
  ['one request per activity', { maxRequestsPerActivity: 1 }, 5],
];

describe('ArmScheduler', () => {

  it.each(setups)('schedules every request exactly once, after its dependencies, within the slots (%s)', (_name, over, seed) => {
    const opts = options(over);
    const s = new ArmScheduler(opts);
    expect(s.isDone()).toBe(false);
    const pick = seed < 0 ? undefined : lcgPick(seed);
    const log = drive(s, opts, { pick: pick && ((n) => pick(n)) });
    expect(log.violations).toEqual([]);
    // 5 prefixes x 3 samples: 15 thoughts, 60 suffixes, 60 judgments.
    const counts = { thought: 0, suffix: 0, judge: 0 };
    for (const [k, times] of log.scheduled) {
      expect([k, times]).toEqual([k, 1]);
      counts[k.split(':')[0] as keyof typeof counts]++;
    }
    expect(counts).toEqual({ thought: 15, suffix: 60, judge: 60 });
    expect(s.isDone()).toBe(true);
    expect(s.compactRecords()).toHaveLength(60);
    expect(s.errors()).toEqual([]);
    expect(s.progress()).toMatchObject({
      thought: { done: 15, total: 15 },
      suffix: { done: 60, total: 60 },
      judge: { done: 60, total: 60 },
      judgmentsWaiting: 0,
      inFlight: { arm: 0, judge: 0 },
      errors: 0,
    });
  });

  it('reaches its slots when there is enough work', () => {
    const opts = options({ armSlots: 4, judgeSlots: 3 });
    const log = drive(new ArmScheduler(opts), opts, { pick: () => 0 });
    expect(log.maxInFlight.arm).toBe(4);
    expect(log.maxInFlight.judge).toBe(3);
  });

  it('with maxRequestsPerActivity = 1 every batch carries exactly one request on one lane', () => {
    const opts = options({ maxRequestsPerActivity: 1 });
    const log = drive(new ArmScheduler(opts), opts);
    expect(log.batches).toHaveLength(15 + 60 + 60);
    for (const b of log.batches) {
      expect(b.items).toHaveLength(1);
      expect(b.lanes).toBe(1);
    }
  });

  it('writes compact records [prefix, sample, condition index, reward or -1, thought words, suffix words]', () => {
    const opts = options({ prefixes: prefixes(2), samples: 2, swap: [1, 0] });
    const s = new ArmScheduler(opts);
    drive(s, opts);
    const records = [...s.compactRecords()].sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]);
    expect(records).toHaveLength(16);
    expect(records.slice(0, 4)).toEqual([
      [0, 0, 0, 1, 7, 9],
      [0, 0, 1, -1, 0, 9],
      [0, 0, 2, 1, 7, 9],
      [0, 0, 3, 1, 7, 9],
    ]);
    expect(records.find((r) => r[0] === 1 && r[1] === 0 && r[2] === 0)).toEqual([1, 0, 0, 0, 7, 9]);
  });

  it('without swapped needs no swap, and without thought conditions schedules no thoughts', () => {
    const noSwap = options({ conditions: [N, B, G], swap: null });
    const a = new ArmScheduler(noSwap);
    expect(drive(a, noSwap).violations).toEqual([]);
    expect(a.compactRecords()).toHaveLength(45);
    expect(a.progress().thought.total).toBe(15);

    const noThought = options({ conditions: [B, G], swap: null });
    const b = new ArmScheduler(noThought);
    const log = drive(b, noThought);
    expect([...log.scheduled.keys()].filter((k) => k.startsWith('thought:'))).toEqual([]);
    expect(b.progress().thought.total).toBe(0);
    expect(b.compactRecords()).toHaveLength(30);
    expect(b.isDone()).toBe(true);
  });

  it('refuses the swapped condition without a swap of the right length', () => {
    expect(() => new ArmScheduler(options({ swap: null }))).toThrow(/swap/);
    expect(() => new ArmScheduler(options({ swap: [1, 0] }))).toThrow(/swap/);
  });

  it('turns a failed thought into errors for its normal and swapped dependents without scheduling them', () => {
    // swap [1, 0, 3, 2]: slot 1 receives the thought of prefix 0.
    const opts = options({ prefixes: prefixes(4), samples: 2, conditions: [N, B, S], swap: [1, 0, 3, 2] });
    const s = new ArmScheduler(opts);
    const log = drive(s, opts, { thoughtError: (i, k) => (i === 0 && k === 0 ? 'HTTP 400: prompt too long' : null) });
    expect(log.violations).toEqual([]);
    expect(log.scheduled.has('suffix:0:0:normal_model_thought')).toBe(false);
    expect(log.scheduled.has('suffix:1:0:same_arm_swapped_thought')).toBe(false);
    // The others still run: the swapped slot 0 takes the thought of prefix 1, which succeeded.
    expect(log.scheduled.get('suffix:0:0:same_arm_swapped_thought')).toBe(1);
    expect(log.scheduled.get('suffix:0:0:blank_thought')).toBe(1);
    expect(log.scheduled.get('suffix:0:1:normal_model_thought')).toBe(1);
    const errors = [...s.errors()].sort((a, b) => a.prefixIndex - b.prefixIndex);
    expect(errors.map((e) => [e.prefixIndex, e.sample, e.condition])).toEqual([
      [0, 0, N],
      [1, 0, S],
    ]);
    for (const e of errors) {
      expect(e.error).toContain('thought of p0/0 failed');
      expect(e.error).toContain('HTTP 400: prompt too long');
    }
    // 4 prefixes x 2 samples x 3 conditions = 24, of which 2 ended in errors.
    expect(s.compactRecords()).toHaveLength(22);
    expect(s.isDone()).toBe(true);
    expect(s.progress().judge).toEqual({ done: 24, total: 24 });
    expect(s.progress().errors).toBe(2);
  });

  it('records a failed suffix as an error and does not judge it', () => {
    const opts = options({ prefixes: prefixes(2), samples: 1, conditions: [N, B], swap: null, maxRequestsPerActivity: 1 });
    const s = new ArmScheduler(opts);
    let failed = false;
    for (let step = 0; step < 100 && !s.isDone(); step++) {
      for (const b of s.nextBatches()) {
        if (b.endpoint === 'judge') {
          s.completeJudge(b.seq, b.items.map((it) => ({ prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition!, reward: 1, attempts: 1, error: null })));
          continue;
        }
        const it = b.items[0]!;
        const fail = it.stage === 'suffix' && it.prefixIndex === 1 && it.condition === B;
        failed ||= fail;
        s.completeGeneration(
          b.seq,
          it.stage === 'thought'
            ? [{ stage: 'thought', prefixIndex: it.prefixIndex, sample: it.sample, error: null, thoughtWords: 3 }]
            : [{ stage: 'suffix', prefixIndex: it.prefixIndex, sample: it.sample, condition: it.condition, error: fail ? 'HTTP 400' : null, suffixWords: 2 }],
        );
      }
    }
    expect(failed).toBe(true);
    expect(s.isDone()).toBe(true);
    expect(s.errors()).toEqual([{ prefixIndex: 1, sample: 0, condition: B, error: 'HTTP 400' }]);
    expect(s.compactRecords()).toHaveLength(3);
  });

  it('only ever raises the judge slots', () => {
    const s = new ArmScheduler(options({ judgeSlots: 3 }));
    s.setJudgeSlots(2);
    expect(s.currentJudgeSlots).toBe(3);
    s.setJudgeSlots(8);
    expect(s.currentJudgeSlots).toBe(8);
  });
});

describe('ArmScheduler judging ahead', () => {

  it.each(setups)('generates every suffix once and judges each exactly once, within the slots (%s)', (_name, over, seed) => {
    const opts = options({ ...over, judgeAhead: true, judgeLending: true });
    const s = new ArmScheduler(opts);
    const pick = seed < 0 ? undefined : lcgPick(seed);
    const log = drive(s, opts, { pick: pick && ((n) => pick(n)) });
    expect(log.violations).toEqual([]);
    for (const [k, times] of log.scheduled) if (!k.startsWith('judge:')) expect([k, times]).toEqual([k, 1]);
    expect(log.judged.size).toBe(60);
    expect([...log.judged.values()].every((n) => n === 1)).toBe(true);
    expect(s.isDone()).toBe(true);
    expect(s.compactRecords()).toHaveLength(60);
    expect(s.progress()).toMatchObject({ judge: { done: 60, total: 60 }, judgmentsWaiting: 0, inFlight: { arm: 0, judge: 0 }, errors: 0 });
  });

  it('sends judgments before their suffixes exist, so the judge starts in the first round', () => {
    const opts = options({ judgeAhead: true, judgeLending: true, armSlots: 4, judgeSlots: 3 });
    const first = new ArmScheduler(opts).nextBatches();
    expect(first.some((b) => b.endpoint === 'arm')).toBe(true);
    expect(first.filter((b) => b.endpoint === 'judge').reduce((n, b) => n + b.lanes, 0)).toBe(3);
    // Without judging ahead the first round has nothing for the judge.
    expect(new ArmScheduler(options({ judgeLending: true })).nextBatches().every((b) => b.endpoint === 'arm')).toBe(true);
  });

  it('generates first the suffixes a judge batch is waiting for', () => {
    const opts = options({ judgeAhead: true, judgeLending: true, armSlots: 2, judgeSlots: 2, maxRequestsPerActivity: 4 });
    const s = new ArmScheduler(opts);
    const first = s.nextBatches();
    const waited = new Set(first.filter((b) => b.endpoint === 'judge').flatMap((b) => b.items.map((i) => `${i.prefixIndex}:${i.sample}:${i.condition}`)));
    const generated = first.filter((b) => b.endpoint === 'arm').flatMap((b) => b.items);
    expect(generated.length).toBeGreaterThan(0);
    for (const it of generated) expect(waited.has(`${it.prefixIndex}:${it.sample}:${it.condition}`)).toBe(true);
  });

  it('records a suffix that failed once, and drops the judgment that waited for it', () => {
    const opts = options({ judgeAhead: true, judgeLending: true });
    const s = new ArmScheduler(opts);
    const log = drive(s, opts, { pick: lcgPick(3), suffixError: (i, k, c) => (i === 2 && k === 1 && c === G ? 'HTTP 400' : null) });
    expect(log.violations).toEqual([]);
    expect(s.errors()).toEqual([{ prefixIndex: 2, sample: 1, condition: G, error: 'HTTP 400' }]);
    expect(log.judged.has(`judge:2:1:${G}`)).toBe(false);
    expect(s.compactRecords()).toHaveLength(59);
    expect(s.progress().judge).toEqual({ done: 60, total: 60 });
    expect(s.isDone()).toBe(true);
  });

  it('puts a generation batch back (outage budget) without losing or repeating a judgment', () => {
    const opts = options({ judgeAhead: true, judgeLending: true });
    const s = new ArmScheduler(opts);
    const completed = new Set<string>();
    const log: DriveLog = { batches: [], scheduled: new Map(), violations: [], maxInFlight: { arm: 0, judge: 0 }, judged: new Map(), notReady: 0 };
    const running: Batch[] = [];
    let requeued = 0;
    let armBatches = 0;
    for (let step = 0; step < 10000 && !(s.isDone() && running.length === 0); step++) {
      running.push(...s.nextBatches());
      const b = running.shift();
      if (!b) break;
      // Every other generation batch, three times, hits an exhausted outage budget: its requests go back to the queue.
      if (b.endpoint === 'arm' && armBatches++ % 2 === 0 && requeued < 3) {
        requeued++;
        s.requeue(b.seq);
        continue;
      }
      finish(s, b, completed, {}, log);
    }
    expect(requeued).toBe(3);
    expect(s.isDone()).toBe(true);
    expect(log.judged.size).toBe(60);
    expect([...log.judged.values()].every((n) => n === 1)).toBe(true);
    expect(s.compactRecords()).toHaveLength(60);
  });
});
