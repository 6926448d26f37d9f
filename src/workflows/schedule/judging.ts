import type { Condition } from '../../experiment/conditions';
import { sampleKey } from '../../experiment/keys';
import type { WorkItem } from '../../experiment/plan';
import type { WorkQueues } from './queues';
import type { JudgeResult } from './types';

/**
 * When a suffix's judgment is queued, and what the judge's backlog is. Two generations of runs replay with
 * different policies, chosen once per arm by a patch: judging after generation, and judging ahead.
 */
export interface JudgingPolicy {
  /** Whether judge batches are dealt round-robin (ahead) rather than cut in order. */
  readonly dealt: boolean;
  /** A suffix can be generated now. */
  suffixReady(item: WorkItem): void;
  /** A suffix was generated. */
  suffixGenerated(prefixIndex: number, sample: number, condition: Condition): void;
  /** A suffix's generation failed for its sample. */
  suffixFailed(prefixIndex: number, sample: number, condition: Condition): void;
  /** A judge batch started with these items. */
  started(items: WorkItem[]): void;
  /** A judge batch that will not finish is put back (its items go back in front of the queue). */
  putBack(items: WorkItem[]): void;
  /** A judge result came back: false when the suffix was not there and is to be judged later (if at all). */
  judged(r: JudgeResult): boolean;
  /** Generated suffixes the judge has not scored yet, beyond those it is scoring now. */
  backlog(judgeInFlight: number): number;
  /** Suffixes that exist and are not judged yet, for progress (`inRunningBatches`: judge items in running batches). */
  waiting(inRunningBatches: number): number;
  /** Whether a running judge batch already waits for this suffix. */
  awaited(item: WorkItem): boolean;
}

/** Older runs: a judgment is queued when its suffix's generation batch completes. */
export class JudgeAfterGeneration implements JudgingPolicy {
  readonly dealt = false;
  constructor(private readonly queues: WorkQueues) {}

  suffixReady(): void {}

  suffixGenerated(prefixIndex: number, sample: number, condition: Condition): void {
    this.queues.judgments.push(this.queues.judgeItem(prefixIndex, sample, condition));
  }

  suffixFailed(): void {}
  started(): void {}
  putBack(): void {}

  judged(): boolean {
    return true;
  }

  backlog(): number {
    return this.queues.judgments.length;
  }

  waiting(inRunningBatches: number): number {
    return this.queues.judgments.length + inRunningBatches;
  }

  awaited(): boolean {
    return false;
  }
}

/**
 * Newer runs (judge-ahead-v1): a judgment is queued as soon as its suffix can be generated, in the order suffixes
 * will exist, and a judge batch judges each suffix the moment it is stored.
 */
export class JudgeAhead implements JudgingPolicy {
  readonly dealt = true;
  // Where each judgment stands, by suffix key.
  private readonly state = new Map<string, 'queued' | 'running' | 'done'>();
  private readonly failed = new Set<string>();
  // Suffixes generated and not judged yet (the judge's real backlog).
  private readonly awaiting = new Set<string>();

  constructor(private readonly queues: WorkQueues) {}

  private key(prefixIndex: number, sample: number, condition: string): string {
    return sampleKey(this.queues.prefix(prefixIndex).id, sample, condition);
  }

  private keyOf(item: WorkItem): string {
    return this.key(item.prefixIndex, item.sample, item.condition!);
  }

  /** Queues a suffix's judgment unless it is queued, running or done already. */
  private queue(prefixIndex: number, sample: number, condition: Condition, front = false): void {
    const key = this.key(prefixIndex, sample, condition);
    if (this.state.has(key)) return;
    this.state.set(key, 'queued');
    const item = this.queues.judgeItem(prefixIndex, sample, condition);
    if (front) this.queues.judgments.unshift(item);
    else this.queues.judgments.push(item);
  }

  suffixReady(item: WorkItem): void {
    this.queue(item.prefixIndex, item.sample, item.condition!);
  }

  suffixGenerated(prefixIndex: number, sample: number, condition: Condition): void {
    const key = this.key(prefixIndex, sample, condition);
    if (this.state.get(key) !== 'done') this.awaiting.add(key);
    this.queue(prefixIndex, sample, condition);
  }

  suffixFailed(prefixIndex: number, sample: number, condition: Condition): void {
    const key = this.key(prefixIndex, sample, condition);
    this.failed.add(key);
    if (this.state.get(key) !== 'queued') return;
    this.state.delete(key);
    const at = this.queues.judgments.findIndex((j) => this.keyOf(j) === key);
    if (at >= 0) this.queues.judgments.splice(at, 1);
  }

  started(items: WorkItem[]): void {
    for (const it of items) this.state.set(this.keyOf(it), 'running');
  }

  putBack(items: WorkItem[]): void {
    // A put-back suffix keeps its judgment where it is; put-back judgments are queued again.
    for (const it of items) if (it.stage === 'judge') this.state.set(this.keyOf(it), 'queued');
  }

  judged(r: JudgeResult): boolean {
    const key = this.key(r.prefixIndex, r.sample, r.condition);
    if (r.notReady) {
      // Judged later once its suffix exists; a failed generation is recorded by the arm's own result.
      this.state.delete(key);
      if (!this.failed.has(key)) this.queue(r.prefixIndex, r.sample, r.condition, true);
      return false;
    }
    this.state.set(key, 'done');
    this.awaiting.delete(key);
    return true;
  }

  backlog(judgeInFlight: number): number {
    return Math.max(0, this.awaiting.size - judgeInFlight);
  }

  waiting(): number {
    return this.awaiting.size;
  }

  awaited(item: WorkItem): boolean {
    return this.state.get(this.keyOf(item)) === 'running';
  }
}
