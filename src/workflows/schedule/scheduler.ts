import { needsModelThought, type Condition } from '../../experiment/conditions';
import { sampleKey } from '../../experiment/keys';
import { activityIdFor, type WorkItem } from '../../experiment/plan';
import { JudgeAfterGeneration, JudgeAhead, type JudgingPolicy } from './judging';
import { ArmLedger } from './ledger';
import { WorkQueues } from './queues';
import { dealRoundRobin, generationItemsPerLane, judgeItemsPerLane, shapeBatches } from './sizing';
import { ParaphraseStage } from './paraphrase';
import type { ArmProgress, Batch, CompactRecord, Endpoint, GenerationResult, JudgeResult, ParaphraseResult, SampleFailure, ScheduleOptions } from './types';

/**
 * The schedule of one arm: which requests are ready, which run, and what is done. Deterministic, so a workflow can
 * drive it and replay it. No stage barriers: a suffix becomes ready when its thought is there, a judgment when its
 * suffix is (or, judging ahead, when it can be generated). The judge, the usual bottleneck, is fed first: suffixes
 * go before thoughts, and generation batches stay small while the judge has little to do.
 */
export class ArmScheduler {
  private readonly opts: ScheduleOptions;
  private readonly queues: WorkQueues;
  private readonly judging: JudgingPolicy;
  private readonly ledger: ArmLedger;
  private readonly running = new Map<number, Batch>();
  private readonly inFlight = { arm: 0, judge: 0 };
  // Runs with paraphrased_thought conditions only: older runs and runs without them never create it.
  private readonly paraphrases: ParaphraseStage | undefined;
  private judgeSlots: number;
  private seq = 0;
  private armBatchesDone = 0;
  // Prefixes outside the schedule's range whose thoughts its swapped slots receive (not counted as its thoughts).
  private readonly donorOnly = new Set<number>();

  constructor(opts: ScheduleOptions) {
    this.opts = opts;
    this.judgeSlots = opts.judgeSlots;
    const { prefixes, samples, conditions } = opts;
    if (conditions.includes('same_arm_swapped_thought') && (!opts.swap || opts.swap.length !== prefixes.length)) {
      throw new Error('the swapped condition needs a swap of the same length as the prefixes');
    }
    const range = opts.range ?? { start: 0, end: prefixes.length };
    const derived = opts.derivedConditions ?? [];
    this.paraphrases = opts.paraphrase && Object.keys(opts.paraphrase).length > 0 ? new ParaphraseStage(opts.paraphrase) : undefined;
    const paraphrased = this.paraphrases?.conditions ?? [];
    this.queues = new WorkQueues(prefixes, conditions, opts.swap, derived, range);
    this.judging = opts.judgeAhead ? new JudgeAhead(this.queues) : new JudgeAfterGeneration(this.queues);
    this.ledger = new ArmLedger(range.end - range.start, samples, conditions);
    const needsThought = conditions.some(needsModelThought);
    const swapped = conditions.includes('same_arm_swapped_thought');
    const own = prefixes.slice(range.start, range.end);
    // Sample-major order, so that every prefix gets its first sample early.
    for (let k = 0; k < samples; k++) {
      const asked = new Set<number>();
      for (const p of own) {
        if (needsThought) this.queues.thoughts.push({ stage: 'thought', prefixId: p.id, prefixIndex: p.index, sample: k });
        // A thought this chunk's swapped slot receives from outside the chunk comes right after the slot's own.
        const donor = swapped ? opts.swap![p.index]! : -1;
        if (donor >= 0 && !this.queues.owns(donor) && !asked.has(donor)) {
          asked.add(donor);
          this.donorOnly.add(donor);
          const d = this.queues.prefix(donor);
          this.queues.thoughts.push({ stage: 'thought', prefixId: d.id, prefixIndex: d.index, sample: k });
        }
        for (const c of conditions) {
          if (!needsModelThought(c) && !derived.includes(c) && !paraphrased.includes(c)) this.suffixReady(this.queues.suffixItem(p.index, k, c));
        }
      }
    }
  }


  private suffixReady(item: WorkItem): void {
    this.queues.suffixes.push(item);
    this.judging.suffixReady(item);
  }

  private key(prefixIndex: number, sample: number, condition: Condition): string {
    return sampleKey(this.queues.prefix(prefixIndex).id, sample, condition);
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
    const generating = this.queues.generationReady() + this.inFlight.arm + (this.paraphrases?.pending() ?? 0) > 0;
    // Once generation is over, every queued judgment has its suffix.
    const ready = generating ? this.judging.backlog(this.inFlight.judge) : this.queues.judgments.length;
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
    return this.ledger.complete() && this.running.size === 0;
  }

  /** Progress per stage. */
  progress(): ArmProgress {
    const judging = [...this.running.values()].reduce((n, b) => n + (b.endpoint === 'judge' ? b.items.length : 0), 0);
    return this.ledger.progress(this.inFlight, this.judging.waiting(judging));
  }

  /** The finished records in compact form. */
  compactRecords(): CompactRecord[] {
    return this.ledger.records;
  }

  /** Samples that ended in an error before judging (no model call can fix them in this run). */
  errors(): SampleFailure[] {
    return this.ledger.failures;
  }

  private batch(endpoint: Endpoint, lanes: number, items: WorkItem[]): Batch {
    const seq = ++this.seq;
    const b: Batch = { seq, activityId: activityIdFor(this.opts.arm, items, seq), endpoint, lanes, items };
    this.running.set(seq, b);
    if (endpoint === 'paraphrase') this.paraphrases!.use(items[0]!.condition!, lanes);
    else this.inFlight[endpoint] += lanes;
    if (endpoint === 'judge') this.judging.started(items);
    return b;
  }

  /** Takes ready work into new batches, within the free slots of each endpoint. */
  nextBatches(): Batch[] {
    // Judging ahead, generation goes first: the suffixes it starts are judged in the same round.
    // Paraphrases unlock suffixes, so they go first.
    const paraphrase = this.paraphraseBatches();
    if (this.opts.judgeAhead) {
      const arm = this.armBatches();
      return [...paraphrase, ...arm, ...this.judgeBatches()];
    }
    if (paraphrase.length > 0) return [...paraphrase, ...this.judgeBatches(), ...this.armBatches()];
    return [...this.judgeBatches(), ...this.armBatches()];
  }

  private paraphraseBatches(): Batch[] {
    if (!this.paraphrases) return [];
    const out: Batch[] = [];
    for (const { condition, free, ready, slots } of this.paraphrases.ready()) {
      if (free <= 0 || ready <= 0) continue;
      const perLane = Math.max(1, Math.min(8, Math.floor(ready / slots)));
      for (const s of shapeBatches(free, ready, perLane, slots, this.opts.maxRequestsPerActivity)) {
        out.push(this.batch('paraphrase', s.lanes, this.paraphrases.take(condition, s.items)));
      }
    }
    return out;
  }

  private judgeBatches(): Batch[] {
    const free = this.judgeSlots - this.inFlight.judge;
    const ready = this.queues.judgments.length;
    if (free <= 0 || ready <= 0) return [];
    const perLane = judgeItemsPerLane(ready, this.opts.judgeLending ? this.judgeSlots : free);
    const shapes = shapeBatches(free, ready, perLane, this.judgeSlots, this.opts.maxRequestsPerActivity);
    if (!this.judging.dealt) return shapes.map((s) => this.batch('judge', s.lanes, this.queues.take(this.queues.judgments, s.items)));
    // The queue runs in the order suffixes will exist: dealt round-robin, every new batch gets some of the first
    // ones, so none of them waits with idle lanes while another has its work.
    const taken = this.queues.take(this.queues.judgments, shapes.reduce((n, s) => n + s.items, 0));
    const hands = dealRoundRobin(taken, shapes);
    return shapes.map((s, i) => this.batch('judge', s.lanes, hands[i]!));
  }

  private armBatches(): Batch[] {
    const out: Batch[] = [];
    const free = this.opts.armSlots - this.inFlight.arm;
    const ready = this.queues.generationReady();
    if (free <= 0 || ready <= 0) return out;
    const judgeBacklog = this.judging.backlog(this.inFlight.judge);
    const perLane = generationItemsPerLane(this.armBatchesDone, this.opts.judgeAhead === true, judgeBacklog, this.judgeSlots);
    const { thoughts, suffixes } = this.queues;
    for (const s of shapeBatches(free, ready, perLane, this.opts.armSlots, this.opts.maxRequestsPerActivity)) {
      // Suffixes feed the judge at once; thoughts unlock two suffixes each. Once the judge has a backlog,
      // thoughts go first so that normal and swapped suffixes are ready before the judge runs dry; but suffixes
      // a judge batch already waits for go first of all.
      const judgeWaits = suffixes.length > 0 && this.judging.awaited(suffixes[0]!);
      const [first, second] = !judgeWaits && judgeBacklog >= 2 * this.judgeSlots ? [thoughts, suffixes] : [suffixes, thoughts];
      const items = this.queues.take(first, s.items);
      if (items.length < s.items) items.push(...this.queues.take(second, s.items - items.length));
      out.push(this.batch('arm', s.lanes, items));
    }
    return out;
  }

  private release(seq: number): Batch {
    const b = this.running.get(seq);
    if (!b) throw new Error(`no running batch ${seq}`);
    this.running.delete(seq);
    if (b.endpoint === 'paraphrase') this.paraphrases!.use(b.items[0]!.condition!, -b.lanes);
    else this.inFlight[b.endpoint] -= b.lanes;
    return b;
  }

  /** Puts the items of a running batch back in front of their queues (the batch will not finish; it is retried later). */
  requeue(seq: number): void {
    const b = this.release(seq);
    if (b.endpoint === 'paraphrase') return this.paraphrases!.putBack(b.items);
    if (b.endpoint === 'judge') this.judging.putBack(b.items);
    this.queues.putBack(b.items);
  }

  /** Records the results of a finished generation batch and makes their dependents ready. */
  completeGeneration(seq: number, results: GenerationResult[]): void {
    this.release(seq);
    this.armBatchesDone++;
    for (const r of results) {
      if (r.stage === 'thought') {
        if (!this.donorOnly.has(r.prefixIndex)) this.ledger.thoughtDone();
        const dependents = this.queues.dependentsOfThought(r.prefixIndex);
        const paraphrased = this.paraphrases?.conditions ?? [];
        if (r.error !== null) {
          const why = `thought of ${this.queues.prefix(r.prefixIndex).id}/${r.sample} failed: ${r.error}`;
          for (const d of dependents) this.ledger.fail({ prefixIndex: d.prefixIndex, sample: r.sample, condition: d.condition, error: why });
          if (this.queues.owns(r.prefixIndex)) for (const c of paraphrased) this.ledger.fail({ prefixIndex: r.prefixIndex, sample: r.sample, condition: c, error: why });
        } else {
          for (const d of dependents) this.suffixReady(this.queues.suffixItem(d.prefixIndex, r.sample, d.condition));
          if (paraphrased.length > 0 && this.queues.owns(r.prefixIndex)) this.paraphrases!.thoughtReady(this.queues.prefix(r.prefixIndex).id, r.prefixIndex, r.sample);
        }
        continue;
      }
      const c = r.condition!;
      const key = this.key(r.prefixIndex, r.sample, c);
      if (r.error !== null) {
        this.ledger.suffixDone(key);
        this.ledger.fail({ prefixIndex: r.prefixIndex, sample: r.sample, condition: c, error: r.error });
        this.judging.suffixFailed(r.prefixIndex, r.sample, c);
        continue;
      }
      this.ledger.suffixDone(key, { thoughtWords: r.thoughtWords ?? 0, suffixWords: r.suffixWords ?? 0 });
      this.judging.suffixGenerated(r.prefixIndex, r.sample, c);
    }
  }

  /** Records the results of a finished paraphrase batch and makes their suffixes ready. */
  completeParaphrase(seq: number, results: ParaphraseResult[]): void {
    this.release(seq);
    for (const r of results) {
      if (r.error !== null) this.ledger.fail({ prefixIndex: r.prefixIndex, sample: r.sample, condition: r.condition, error: `paraphrase failed: ${r.error}` });
      else this.suffixReady(this.queues.suffixItem(r.prefixIndex, r.sample, r.condition));
    }
  }

  /** Records the results of a finished judge batch. */
  completeJudge(seq: number, results: JudgeResult[]): void {
    this.release(seq);
    for (const r of results) {
      if (!this.judging.judged(r)) continue;
      if (r.error !== null) {
        this.ledger.fail({ prefixIndex: r.prefixIndex, sample: r.sample, condition: r.condition, error: r.error });
        continue;
      }
      this.ledger.judged(this.key(r.prefixIndex, r.sample, r.condition), r);
    }
  }
}
