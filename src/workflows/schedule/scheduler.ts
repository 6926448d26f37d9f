import { type Condition, CONDITIONS } from './conditions';
import { activityIdFor, itemKey, type PlanPrefix, type WorkItem } from './plan';

/** The endpoint a batch goes to: the arm's model server or the judge. */
export type Endpoint = 'arm' | 'judge';

/** Settings of an arm's schedule. */
export interface ScheduleOptions {
  arm: string;
  prefixes: PlanPrefix[];
  samples: number;
  conditions: Condition[];
  /** swap[i] is the prefix index whose thought slot i receives. */
  swap: number[] | null;
  armSlots: number;
  judgeSlots: number;
  /** At most this many requests per activity; 1 means one request per activity. */
  maxRequestsPerActivity: number;
  /** Judge slots are lent to and from the run (newer runs); batch sizing follows the arm's whole judge share. */
  judgeLending?: boolean;
  /**
   * Judge ahead (newer runs): a suffix's judgment is queued as soon as the suffix can be generated, and a judge batch
   * judges each of its suffixes the moment it is stored, so the judge never waits for a generation batch to end.
   */
  judgeAhead?: boolean;
}

/** A batch of ready requests for one endpoint: one activity, run with `lanes` requests in flight. */
export interface Batch {
  seq: number;
  activityId: string;
  endpoint: Endpoint;
  lanes: number;
  items: WorkItem[];
}

/** What a generation request produced, as the workflow carries it (texts are in the store). */
export interface GenerationResult {
  stage: 'thought' | 'suffix';
  prefixIndex: number;
  sample: number;
  condition?: Condition;
  /** Null when the request failed for this sample only (for example a 400); the text is then `error`. */
  error: string | null;
  thoughtWords?: number;
  suffixWords?: number;
}

/** What a judgment produced: the reward (null when invalid) and how many judge calls it took. */
export interface JudgeResult {
  prefixIndex: number;
  sample: number;
  condition: Condition;
  reward: 0 | 1 | null;
  attempts: number;
  error: string | null;
  /** The suffix was not there to judge (still generating, or its generation failed): judge it later, if at all. */
  notReady?: true;
  /** Word counts of the judged sample (newer activities). */
  thoughtWords?: number;
  suffixWords?: number;
}

/**
 * A finished record in compact form: [prefixIndex, sample, condition index, reward (-1 = null),
 * thought words, suffix words]. Small enough for workflow results at ten times the note's size.
 */
export type CompactRecord = [number, number, number, number, number, number];

/** Done and total per stage, and the judge backlog, for progress displays. */
export interface ArmProgress {
  thought: { done: number; total: number };
  suffix: { done: number; total: number };
  judge: { done: number; total: number };
  judgmentsWaiting: number;
  inFlight: { arm: number; judge: number };
  errors: number;
  /** Running reward means of the judgments so far, per condition (valid judgments only). */
  rewards: Record<string, { judged: number; valid: number; mean: number | null }>;
}

interface SlotState {
  suffixWords?: number;
  thoughtWords?: number;
  error?: string | null;
}

/**
 * The schedule of one arm: which requests are ready, which run, and what is done. Pure and deterministic,
 * so a workflow can drive it and replay it. No stage barriers: a suffix becomes ready when its thought is
 * there, a judgment when its suffix is. The judge, the usual bottleneck, is fed first: suffixes go before
 * thoughts, and generation batches stay small while the judge has little to do.
 */
export class ArmScheduler {
  private readonly opts: ScheduleOptions;
  private readonly readyThoughts: WorkItem[] = [];
  private readonly readySuffixes: WorkItem[] = [];
  private readonly readyJudgments: WorkItem[] = [];
  private readonly thoughtWords = new Map<string, number>();
  private readonly thoughtFailed = new Map<string, string>();
  private readonly suffixes = new Map<string, SlotState>();
  // Judging ahead: suffixes whose generation failed, and where each judgment stands, by suffix key.
  private readonly failedSuffixes = new Set<string>();
  private readonly judgment = new Map<string, 'queued' | 'running' | 'done'>();
  // Judging ahead: suffixes generated and not judged yet (the judge's real backlog).
  private readonly awaitingJudge = new Set<string>();
  private readonly running = new Map<number, Batch>();
  private readonly records: CompactRecord[] = [];
  private readonly errorRecords: { prefixIndex: number; sample: number; condition: Condition; error: string }[] = [];
  private inFlight = { arm: 0, judge: 0 };
  private judgeSlots: number;
  private seq = 0;
  private armBatchesDone = 0;
  private readonly rewardSums = new Map<string, { judged: number; valid: number; sum: number }>();
  private done = { thought: 0, suffix: 0, judge: 0 };
  private readonly totals: { thought: number; suffix: number; judge: number };

  constructor(opts: ScheduleOptions) {
    this.opts = opts;
    this.judgeSlots = opts.judgeSlots;
    const { prefixes, samples, conditions } = opts;
    if (conditions.includes('same_arm_swapped_thought') && (!opts.swap || opts.swap.length !== prefixes.length)) {
      throw new Error('the swapped condition needs a swap of the same length as the prefixes');
    }
    const needsThought = conditions.some((c) => c === 'normal_model_thought' || c === 'same_arm_swapped_thought');
    const slots = prefixes.length * samples;
    this.totals = { thought: needsThought ? slots : 0, suffix: slots * conditions.length, judge: slots * conditions.length };
    // Sample-major order, so that every prefix gets its first sample early.
    for (let k = 0; k < samples; k++) {
      for (const p of prefixes) {
        if (needsThought) this.readyThoughts.push({ stage: 'thought', prefixId: p.id, prefixIndex: p.index, sample: k });
        for (const c of conditions) {
          if (c === 'blank_thought' || c === 'generic_thought') this.suffixReady(this.suffixItem(p.index, k, c));
        }
      }
    }
  }

  /** A suffix can be generated now; judging ahead, its judgment is queued with it. */
  private suffixReady(item: WorkItem): void {
    this.readySuffixes.push(item);
    if (this.opts.judgeAhead) this.queueJudgment(item.prefixIndex, item.sample, item.condition!);
  }

  private suffixKey(item: WorkItem): string {
    return itemKey('suffix', item.prefixIndex, item.sample, item.condition);
  }

  private prefix(index: number): PlanPrefix {
    return this.opts.prefixes[index]!;
  }

  private suffixItem(prefixIndex: number, sample: number, condition: Condition): WorkItem {
    const p = this.prefix(prefixIndex);
    const item: WorkItem = { stage: 'suffix', prefixId: p.id, prefixIndex, sample, condition };
    if (condition === 'same_arm_swapped_thought') {
      const donor = this.prefix(this.opts.swap![prefixIndex]!);
      item.thoughtSource = { prefixId: donor.id, prefixIndex: donor.index, sample };
    }
    return item;
  }

  /** Raises the judge slots of this arm (capacity another arm left unused). */
  setJudgeSlots(slots: number): void {
    this.judgeSlots = Math.max(this.judgeSlots, slots);
  }

  /**
   * What this arm should do with its judge slots now: release those it cannot use (its generation is over and
   * fewer judgments remain than it holds), or ask for more (judgments wait beyond its free slots).
   */
  judgeLending(): { release: number; want: number } {
    const generating = this.readySuffixes.length + this.readyThoughts.length + this.inFlight.arm > 0;
    // Once generation is over, every queued judgment has its suffix.
    const ready = generating ? this.judgeBacklog() : this.readyJudgments.length;
    const free = this.judgeSlots - this.inFlight.judge;
    if (!generating) {
      const keep = Math.max(this.inFlight.judge + ready > 0 ? 1 : 0, Math.min(this.judgeSlots, this.inFlight.judge + ready));
      if (this.judgeSlots > keep) return { release: this.judgeSlots - keep, want: 0 };
    }
    return { release: 0, want: ready > free ? ready - free : 0 };
  }

  /** Lowers this arm's judge slots (never below those in use), after it released the rest to the run. */
  lowerJudgeSlots(slots: number): void {
    if (slots < this.inFlight.judge) throw new Error(`cannot lower judge slots to ${slots} with ${this.inFlight.judge} in flight`);
    this.judgeSlots = slots;
  }

  /** The judge slots this arm may use now. */
  get currentJudgeSlots(): number {
    return this.judgeSlots;
  }

  /** Whether every planned request has finished. */
  isDone(): boolean {
    return this.done.judge + this.errorRecords.length >= this.totals.judge && this.running.size === 0;
  }

  /** Progress per stage. */
  progress(): ArmProgress {
    return {
      thought: { done: this.done.thought, total: this.totals.thought },
      suffix: { done: this.done.suffix, total: this.totals.suffix },
      judge: { done: this.done.judge + this.errorRecords.length, total: this.totals.judge },
      // Suffixes that exist and are not judged yet: queued, or in a judge batch still running (or retrying).
      judgmentsWaiting: this.opts.judgeAhead
        ? this.awaitingJudge.size
        : this.readyJudgments.length + [...this.running.values()].reduce((n, b) => n + (b.endpoint === 'judge' ? b.items.length : 0), 0),
      inFlight: { ...this.inFlight },
      errors: this.errorRecords.length,
      rewards: Object.fromEntries(
        [...this.rewardSums].map(([c, r]) => [c, { judged: r.judged, valid: r.valid, mean: r.valid === 0 ? null : r.sum / r.valid }]),
      ),
    };
  }

  /** The finished records in compact form. */
  compactRecords(): CompactRecord[] {
    return this.records;
  }

  /** Samples that ended in an error before judging (no model call can fix them in this run). */
  errors(): { prefixIndex: number; sample: number; condition: Condition; error: string }[] {
    return this.errorRecords;
  }

  private take(queue: WorkItem[], n: number): WorkItem[] {
    return queue.splice(0, n);
  }

  private plan(endpoint: Endpoint, free: number, ready: number, itemsPerLane: number): { lanes: number; items: number }[] {
    const out: { lanes: number; items: number }[] = [];
    const max = Math.max(1, this.opts.maxRequestsPerActivity);
    // Two or more activities per endpoint, so one finishing never leaves the endpoint idle while it reschedules.
    const cap = endpoint === 'arm' ? this.opts.armSlots : this.judgeSlots;
    const lanesPerActivity = Math.max(1, Math.ceil(cap / 2));
    let slots = free;
    let left = ready;
    while (slots > 0 && left > 0) {
      const lanes = Math.min(slots, lanesPerActivity, left, max);
      const items = Math.min(left, lanes * itemsPerLane, max);
      out.push({ lanes, items });
      slots -= lanes;
      left -= items;
    }
    return out;
  }

  private batch(endpoint: Endpoint, lanes: number, items: WorkItem[]): Batch {
    const seq = ++this.seq;
    const b: Batch = { seq, activityId: activityIdFor(this.opts.arm, items, seq), endpoint, lanes, items };
    this.running.set(seq, b);
    this.inFlight[endpoint] += lanes;
    if (this.opts.judgeAhead && endpoint === 'judge') for (const it of items) this.judgment.set(this.suffixKey(it), 'running');
    return b;
  }

  /** Queues a suffix's judgment unless it is queued, running or done already. */
  private queueJudgment(prefixIndex: number, sample: number, condition: Condition, front = false): void {
    const key = itemKey('suffix', prefixIndex, sample, condition);
    if (this.judgment.has(key)) return;
    this.judgment.set(key, 'queued');
    const item: WorkItem = { stage: 'judge', prefixId: this.prefix(prefixIndex).id, prefixIndex, sample, condition };
    if (front) this.readyJudgments.unshift(item);
    else this.readyJudgments.push(item);
  }

  /** Takes a suffix's judgment out of the queue (its generation failed). */
  private unqueueJudgment(key: string): void {
    if (this.judgment.get(key) !== 'queued') return;
    this.judgment.delete(key);
    const at = this.readyJudgments.findIndex((j) => itemKey('suffix', j.prefixIndex, j.sample, j.condition) === key);
    if (at >= 0) this.readyJudgments.splice(at, 1);
  }

  /** Generated suffixes the judge has not scored yet, beyond those it is scoring now. */
  private judgeBacklog(): number {
    if (!this.opts.judgeAhead) return this.readyJudgments.length;
    return Math.max(0, this.awaitingJudge.size - this.inFlight.judge);
  }

  /** Takes ready work into new batches, within the free slots of each endpoint. */
  nextBatches(): Batch[] {
    if (!this.opts.judgeAhead) return [...this.judgeBatches(), ...this.armBatches()];
    // Generation first: the suffixes it starts are judged in the same round.
    const arm = this.armBatches();
    return [...arm, ...this.judgeBatches()];
  }

  private judgeBatches(): Batch[] {
    const out: Batch[] = [];
    const judgeFree = this.judgeSlots - this.inFlight.judge;
    const judgeReady = this.readyJudgments.length;
    if (judgeFree > 0 && judgeReady > 0) {
      // Judge results feed nothing downstream, so its batches may be long: fewer round trips per request.
      // Sized by all of the arm's judge slots, not only the free ones, so the last judgments spread over every lane.
      const perLane = Math.max(1, Math.min(16, Math.floor(judgeReady / (this.opts.judgeLending ? this.judgeSlots : judgeFree))));
      const planned = this.plan('judge', judgeFree, judgeReady, perLane);
      if (!this.opts.judgeAhead) {
        for (const b of planned) out.push(this.batch('judge', b.lanes, this.take(this.readyJudgments, b.items)));
        return out;
      }
      // Judging ahead, the queue runs in the order suffixes will exist: dealt round-robin, every new batch gets
      // some of the first ones, so none of them waits with idle lanes while another has its work.
      const taken = this.take(this.readyJudgments, planned.reduce((n, b) => n + b.items, 0));
      const hands: WorkItem[][] = planned.map(() => []);
      let next = 0;
      for (const it of taken) {
        while (hands[next]!.length >= planned[next]!.items) next = (next + 1) % planned.length;
        hands[next]!.push(it);
        next = (next + 1) % planned.length;
      }
      planned.forEach((b, i) => out.push(this.batch('judge', b.lanes, hands[i]!)));
    }
    return out;
  }

  private armBatches(): Batch[] {
    const out: Batch[] = [];
    const armFree = this.opts.armSlots - this.inFlight.arm;
    const armReady = this.readySuffixes.length + this.readyThoughts.length;
    if (armFree > 0 && armReady > 0) {
      // The first generation batches are small so the judge gets work early; then they double with every
      // round, because each activity costs a round trip and the arm, not only the judge, must keep up.
      const judgeBacklog = this.judgeBacklog();
      // Judging ahead, the judge does not wait for a batch to end, so batches start at a few requests per lane.
      const ramp = 2 ** Math.floor(this.armBatchesDone / 2) * (this.opts.judgeAhead ? 4 : 1);
      const perLane = Math.max(1, Math.min(8, Math.max(ramp, Math.floor(judgeBacklog / Math.max(1, this.judgeSlots)))));
      for (const b of this.plan('arm', armFree, armReady, perLane)) {
        // Suffixes feed the judge at once; thoughts unlock two suffixes each. Once the judge has a backlog,
        // thoughts go first so that normal and swapped suffixes are ready before the judge runs dry.
        // Judging ahead, suffixes a judge batch already waits for go first of all.
        const judgeWaits = this.opts.judgeAhead && this.readySuffixes.length > 0 && this.judgment.get(this.suffixKey(this.readySuffixes[0]!)) === 'running';
        const [first, second] =
          !judgeWaits && judgeBacklog >= 2 * this.judgeSlots ? [this.readyThoughts, this.readySuffixes] : [this.readySuffixes, this.readyThoughts];
        const items = this.take(first, b.items);
        if (items.length < b.items) items.push(...this.take(second, b.items - items.length));
        out.push(this.batch('arm', b.lanes, items));
      }
    }
    return out;
  }

  private release(seq: number): Batch {
    const b = this.running.get(seq);
    if (!b) throw new Error(`no running batch ${seq}`);
    this.running.delete(seq);
    this.inFlight[b.endpoint] -= b.lanes;
    return b;
  }

  /** Puts the items of a running batch back in front of their queues (the batch will not finish; it is retried later). */
  requeue(seq: number): void {
    const b = this.release(seq);
    // Judging ahead, a put-back suffix keeps its judgment where it is; put-back judgments are queued again.
    if (this.opts.judgeAhead && b.endpoint === 'judge') for (const it of b.items) this.judgment.set(this.suffixKey(it), 'queued');
    const thoughts = b.items.filter((i) => i.stage === 'thought');
    const suffixes = b.items.filter((i) => i.stage === 'suffix');
    const judgments = b.items.filter((i) => i.stage === 'judge');
    this.readyThoughts.unshift(...thoughts);
    this.readySuffixes.unshift(...suffixes);
    this.readyJudgments.unshift(...judgments);
  }

  private failSuffix(prefixIndex: number, sample: number, condition: Condition, error: string): void {
    this.errorRecords.push({ prefixIndex, sample, condition, error });
  }

  private thoughtReady(prefixIndex: number, sample: number): void {
    const { conditions, swap, prefixes } = this.opts;
    if (conditions.includes('normal_model_thought')) this.suffixReady(this.suffixItem(prefixIndex, sample, 'normal_model_thought'));
    if (conditions.includes('same_arm_swapped_thought')) {
      // Slot j receives this thought where swap[j] = prefixIndex.
      for (let j = 0; j < prefixes.length; j++) {
        if (swap![j] === prefixIndex) this.suffixReady(this.suffixItem(j, sample, 'same_arm_swapped_thought'));
      }
    }
  }

  private thoughtError(prefixIndex: number, sample: number, error: string): void {
    const { conditions, swap, prefixes } = this.opts;
    const why = `thought of ${this.prefix(prefixIndex).id}/${sample} failed: ${error}`;
    if (conditions.includes('normal_model_thought')) this.failSuffix(prefixIndex, sample, 'normal_model_thought', why);
    if (conditions.includes('same_arm_swapped_thought')) {
      for (let j = 0; j < prefixes.length; j++) {
        if (swap![j] === prefixIndex) this.failSuffix(j, sample, 'same_arm_swapped_thought', why);
      }
    }
  }

  /** Records the results of a finished generation batch and makes their dependents ready. */
  completeGeneration(seq: number, results: GenerationResult[]): void {
    this.release(seq);
    this.armBatchesDone++;
    for (const r of results) {
      if (r.stage === 'thought') {
        this.done.thought++;
        const key = itemKey('thought', r.prefixIndex, r.sample);
        if (r.error !== null) {
          this.thoughtFailed.set(key, r.error);
          this.thoughtError(r.prefixIndex, r.sample, r.error);
        } else {
          this.thoughtWords.set(key, r.thoughtWords ?? 0);
          this.thoughtReady(r.prefixIndex, r.sample);
        }
      } else {
        this.done.suffix++;
        const c = r.condition!;
        const key = itemKey('suffix', r.prefixIndex, r.sample, c);
        if (r.error !== null) {
          this.failSuffix(r.prefixIndex, r.sample, c, r.error);
          if (this.opts.judgeAhead) {
            this.failedSuffixes.add(key);
            this.unqueueJudgment(key);
          }
          continue;
        }
        this.suffixes.set(key, { thoughtWords: r.thoughtWords ?? 0, suffixWords: r.suffixWords ?? 0 });
        if (this.opts.judgeAhead) {
          if (this.judgment.get(key) !== 'done') this.awaitingJudge.add(key);
          this.queueJudgment(r.prefixIndex, r.sample, c);
          continue;
        }
        const p = this.prefix(r.prefixIndex);
        this.readyJudgments.push({ stage: 'judge', prefixId: p.id, prefixIndex: r.prefixIndex, sample: r.sample, condition: c });
      }
    }
  }

  /** Records the results of a finished judge batch. */
  completeJudge(seq: number, results: JudgeResult[]): void {
    this.release(seq);
    for (const r of results) {
      const key = itemKey('suffix', r.prefixIndex, r.sample, r.condition);
      if (this.opts.judgeAhead) {
        if (r.notReady) {
          // Judged later once its suffix exists; a failed generation is recorded by the arm's own result.
          this.judgment.delete(key);
          if (!this.failedSuffixes.has(key)) this.queueJudgment(r.prefixIndex, r.sample, r.condition, true);
          continue;
        }
        this.judgment.set(key, 'done');
        this.awaitingJudge.delete(key);
      }
      if (r.error !== null) {
        this.failSuffix(r.prefixIndex, r.sample, r.condition, r.error);
        continue;
      }
      this.done.judge++;
      const sums = this.rewardSums.get(r.condition) ?? { judged: 0, valid: 0, sum: 0 };
      sums.judged++;
      if (r.reward !== null) {
        sums.valid++;
        sums.sum += r.reward;
      }
      this.rewardSums.set(r.condition, sums);
      // A judgment made ahead may finish before the workflow hears of its suffix: its words come with it.
      const s = this.suffixes.get(key) ?? {};
      this.records.push([
        r.prefixIndex,
        r.sample,
        CONDITIONS.indexOf(r.condition),
        r.reward === null ? -1 : r.reward,
        r.thoughtWords ?? s.thoughtWords ?? 0,
        r.suffixWords ?? s.suffixWords ?? 0,
      ]);
    }
  }
}
