import type { WorkItem } from '../../experiment/plan';

/**
 * The paraphrase stage of an arm (`paraphrased_thought` conditions): a queue and slots per condition, since each
 * condition names its own paraphrasing endpoint. A paraphrase is ready once the arm's own thought of its slot is
 * there; its suffix once the paraphrase is stored.
 */
export class ParaphraseStage {
  private readonly queues = new Map<string, WorkItem[]>();
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly slots: Readonly<Record<string, number>>) {
    for (const c of Object.keys(slots)) {
      this.queues.set(c, []);
      this.inFlight.set(c, 0);
    }
  }

  /** The paraphrased conditions, in config order. */
  get conditions(): string[] {
    return Object.keys(this.slots);
  }

  /** Queues the paraphrases of a thought (prefix, sample), one per paraphrased condition. */
  thoughtReady(prefixId: string, prefixIndex: number, sample: number): void {
    for (const [c, q] of this.queues) q.push({ stage: 'paraphrase', prefixId, prefixIndex, sample, condition: c });
  }

  /** Free slots and ready paraphrases of each condition. */
  ready(): { condition: string; free: number; ready: number; slots: number }[] {
    return this.conditions.map((c) => ({ condition: c, free: this.slots[c]! - this.inFlight.get(c)!, ready: this.queues.get(c)!.length, slots: this.slots[c]! }));
  }

  /** Takes the first n paraphrases of a condition. */
  take(condition: string, n: number): WorkItem[] {
    return this.queues.get(condition)!.splice(0, n);
  }

  /** Slots of a condition's endpoint taken (positive) or given back (negative) by a batch. */
  use(condition: string, lanes: number): void {
    this.inFlight.set(condition, this.inFlight.get(condition)! + lanes);
  }

  /** Paraphrases queued or in flight: generation is not over while any is. */
  pending(): number {
    let n = 0;
    for (const c of this.conditions) n += this.queues.get(c)!.length + this.inFlight.get(c)!;
    return n;
  }

  /** Puts the items of a batch that will not finish back in front of their queue. */
  putBack(items: WorkItem[]): void {
    for (const it of [...items].reverse()) this.queues.get(it.condition!)!.unshift(it);
  }
}
