import type { FaultRule } from './types';

/** Holds the fault rules and decides which one (if any) applies to a request. */
export class FaultController {
  private rules: FaultRule[] = [];
  private hits: number[] = [];
  private arrivals = new Map<string, number>();
  private epoch = Date.now();

  constructor(rules: FaultRule[] = []) {
    this.set(rules);
  }

  /** Replaces the rules; atMs/afterRequests/count are measured from now. */
  set(rules: FaultRule[]): void {
    this.rules = rules.map((r) => ({ ...r }));
    this.hits = rules.map(() => 0);
    this.arrivals.clear();
    this.epoch = Date.now();
  }

  /** Current rules. */
  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r }));
  }

  /** Registers an arriving request for `model` and returns the fault to inject, if any. */
  pick(model: string, isJudge: boolean, promptText = ''): FaultRule | undefined {
    const prior = this.arrivals.get(model) ?? 0;
    this.arrivals.set(model, prior + 1);
    const t = Date.now() - this.epoch;
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i];
      if (r.model !== undefined && r.model !== model) continue;
      if (r.kind === 'invalid' && !isJudge) continue;
      if (r.match !== undefined && !promptText.includes(r.match)) continue;
      if (prior < (r.afterRequests ?? 0)) continue;
      const at = r.atMs ?? 0;
      if (t < at || (r.durationMs !== undefined && t >= at + r.durationMs)) continue;
      if (r.count !== undefined && this.hits[i] >= r.count) continue;
      this.hits[i]++;
      return r;
    }
    return undefined;
  }
}
