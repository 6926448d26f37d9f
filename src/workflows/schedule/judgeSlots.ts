/** Splits the judge's slots over arms as evenly as possible, each arm getting at least one. */
export function splitSlots(total: number, arms: number): number[] {
  return Array.from({ length: arms }, (_, i) => Math.max(1, Math.floor(total / arms) + (i < total % arms ? 1 : 0)));
}

/** Judge slots to send to an arm: `more` of them now its own (lending), or its new total `slots` (older runs). */
export type SlotMessage = { arm: string; more: number } | { arm: string; slots: number };

/**
 * The run's ledger of the judge's slots across its arms. Each arm starts with an even share. Newer runs
 * (judge-lending-v1) lend: arms give back slots they cannot use and ask for more when judgments wait; the ledger
 * keeps the free ones and grants them, moving counts as deltas, so the sum the arms hold never exceeds the judge's
 * concurrency whatever order the messages arrive in. Older runs only hand a finished arm's slots to the others.
 */
export class JudgeSlotLedger {
  private readonly held = new Map<string, number>();
  private readonly running: Set<string>;
  private readonly demands = new Map<string, number>();
  private free = 0;

  constructor(
    private readonly arms: string[],
    total: number,
    private readonly lending: boolean,
  ) {
    const slots = splitSlots(total, arms.length);
    arms.forEach((a, i) => this.held.set(a, slots[i]!));
    this.running = new Set(arms);
  }

  /** The arms still running, in config order. */
  runningArms(): string[] {
    return this.arms.filter((a) => this.running.has(a));
  }

  /** The slots an arm holds now. */
  slotsOf(arm: string): number {
    return this.held.get(arm)!;
  }

  private grant(): SlotMessage[] {
    const out: SlotMessage[] = [];
    for (const [arm, want] of [...this.demands]) {
      if (this.free <= 0) break;
      this.demands.delete(arm);
      if (!this.running.has(arm)) continue;
      const g = Math.min(this.free, want);
      this.free -= g;
      this.held.set(arm, this.held.get(arm)! + g);
      out.push({ arm, more: g });
    }
    return out;
  }

  /** An arm gave back slots (negative delta) or asked for more (positive): the grants to send. */
  lend(arm: string, delta: number): SlotMessage[] {
    // A message from an arm that has already finished was counted when it finished.
    if (!this.lending || !this.running.has(arm)) return [];
    if (delta < 0) {
      const n = Math.min(-delta, this.held.get(arm) ?? 0);
      this.held.set(arm, this.held.get(arm)! - n);
      this.free += n;
    } else {
      this.demands.set(arm, delta);
    }
    return this.grant();
  }

  /** An arm failed: it holds on to nothing and asks for nothing more. */
  failed(arm: string): void {
    this.running.delete(arm);
  }

  /** An arm finished: its slots go to the arms still running. */
  finished(arm: string): SlotMessage[] {
    this.running.delete(arm);
    const freed = this.held.get(arm)!;
    this.held.set(arm, 0);
    if (this.lending) {
      this.free += freed;
      return this.grant();
    }
    const others = this.arms.filter((a) => this.running.has(a));
    const extra = splitSlots(freed, others.length || 1);
    return others.map((o, i) => {
      const next = this.held.get(o)! + (freed >= others.length || i < freed ? extra[i]! : 0);
      this.held.set(o, next);
      return { arm: o, slots: next };
    });
  }
}
