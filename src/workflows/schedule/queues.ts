import type { Condition } from '../../experiment/conditions';
import type { PlanPrefix, WorkItem } from '../../experiment/plan';

/**
 * The dependency queues of one arm: requests whose inputs exist, in the order they are to run. A thought needs
 * nothing; a suffix under the own or swapped thought needs its thought; a judgment needs its suffix.
 */
export class WorkQueues {
  readonly thoughts: WorkItem[] = [];
  readonly suffixes: WorkItem[] = [];
  readonly judgments: WorkItem[] = [];

  constructor(
    private readonly prefixes: PlanPrefix[],
    private readonly conditions: Condition[],
    private readonly swap: number[] | null,
    private readonly derived: readonly string[] = [],
    /** The prefixes whose suffixes this schedule covers, by position ([start, end)). */
    private readonly range: { start: number; end: number } = { start: 0, end: prefixes.length },
  ) {}

  /** Whether a prefix's suffixes and judgments belong to this schedule (not only its thought, for a swap). */
  owns(prefixIndex: number): boolean {
    return prefixIndex >= this.range.start && prefixIndex < this.range.end;
  }

  /** The prefix at an index of the plan. */
  prefix(index: number): PlanPrefix {
    return this.prefixes[index]!;
  }

  /** The suffix request for (prefix, sample, condition), with its thought's donor under the swapped condition. */
  suffixItem(prefixIndex: number, sample: number, condition: Condition): WorkItem {
    const p = this.prefix(prefixIndex);
    const item: WorkItem = { stage: 'suffix', prefixId: p.id, prefixIndex, sample, condition };
    if (condition === 'same_arm_swapped_thought') {
      const donor = this.prefix(this.swap![prefixIndex]!);
      item.thoughtSource = { prefixId: donor.id, prefixIndex: donor.index, sample };
    }
    return item;
  }

  /** The judgment request for (prefix, sample, condition). */
  judgeItem(prefixIndex: number, sample: number, condition: Condition): WorkItem {
    return { stage: 'judge', prefixId: this.prefix(prefixIndex).id, prefixIndex, sample, condition };
  }

  /**
   * The suffixes that need a prefix's thought (of any one sample): its own, the configured interventions of the
   * same slot, and every slot the swap gives it to.
   */
  dependentsOfThought(prefixIndex: number): { prefixIndex: number; condition: Condition }[] {
    const out: { prefixIndex: number; condition: Condition }[] = [];
    if (this.owns(prefixIndex)) {
      if (this.conditions.includes('normal_model_thought')) out.push({ prefixIndex, condition: 'normal_model_thought' });
      for (const c of this.derived) out.push({ prefixIndex, condition: c });
    }
    if (this.conditions.includes('same_arm_swapped_thought')) {
      // Slot j receives this thought where swap[j] = prefixIndex.
      for (let j = this.range.start; j < this.range.end; j++) {
        if (this.swap![j] === prefixIndex) out.push({ prefixIndex: j, condition: 'same_arm_swapped_thought' });
      }
    }
    return out;
  }

  /** Takes the first n of a queue. */
  take(queue: WorkItem[], n: number): WorkItem[] {
    return queue.splice(0, n);
  }

  /** Whether generation has anything left to start. */
  generationReady(): number {
    return this.suffixes.length + this.thoughts.length;
  }

  /** Puts the items of a batch that will not finish back in front of their queues. */
  putBack(items: WorkItem[]): void {
    this.thoughts.unshift(...items.filter((i) => i.stage === 'thought'));
    this.suffixes.unshift(...items.filter((i) => i.stage === 'suffix'));
    this.judgments.unshift(...items.filter((i) => i.stage === 'judge'));
  }
}
