/**
 * Caps on requests in flight per endpoint within one worker process, for endpoints whose calls ride in another
 * endpoint's activities (extra judges in the main judge's batches, which the workflows' slot accounting does not see).
 */
export class EndpointLimits {
  private readonly gates = new Map<string, { active: number; waiting: (() => void)[] }>();

  /** Waits for a free place under `max` for this endpoint; returns the function that frees it. */
  async acquire(endpoint: string, max: number): Promise<() => void> {
    let g = this.gates.get(endpoint);
    if (!g) {
      g = { active: 0, waiting: [] };
      this.gates.set(endpoint, g);
    }
    const gate = g;
    while (gate.active >= max) await new Promise<void>((resolve) => gate.waiting.push(resolve));
    gate.active++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      gate.active--;
      gate.waiting.shift()?.();
    };
  }
}
