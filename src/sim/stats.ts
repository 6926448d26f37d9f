import type { ModelStats, SimStats } from './types';

/** Tracks per-model request counters and concurrency. */
export class StatsTracker {
  private models: Record<string, ModelStats> = {};

  constructor(private readonly known: string[]) {
    this.reset();
  }

  /** Zeroes all counters (in-flight requests keep being tracked). */
  reset(): void {
    const prev = this.models;
    this.models = {};
    for (const m of this.known) this.get(m).inFlight = prev[m]?.inFlight ?? 0;
  }

  private get(model: string): ModelStats {
    return (this.models[model] ??= { requests: 0, completed: 0, errors: 0, inFlight: 0, peakConcurrent: 0, streamed: 0, busyMs: 0 });
  }

  /** Records an arriving request; returns its per-model arrival number (1-based). */
  begin(model: string, stream = false): number {
    const s = this.get(model);
    s.requests++;
    if (stream) s.streamed++;
    s.inFlight++;
    s.peakConcurrent = Math.max(s.peakConcurrent, s.inFlight);
    return s.requests;
  }

  /** Records the end of a request as completed or error, and how long it was open. */
  end(model: string, ok: boolean, ms = 0): void {
    const s = this.get(model);
    s.busyMs += ms;
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (ok) s.completed++;
    else s.errors++;
  }

  /** Snapshot in the /stats JSON shape. */
  snapshot(): SimStats {
    const models = JSON.parse(JSON.stringify(this.models)) as Record<string, ModelStats>;
    const totalRequests = Object.values(models).reduce((a, s) => a + s.requests, 0);
    return { simulated: true, models, totalRequests };
  }
}
