import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FaultRule, SimStats } from './types';

/** A simulated server running in a child process, like a real model server would. */
export interface SimProcess {
  url: string;
  child: ChildProcess;
  /** The server's request counters (GET /stats). */
  stats(): Promise<SimStats>;
  stop(): Promise<void>;
}

/** Starts `thought-probe sim` in its own process on a free port and waits for its URL. */
export function spawnSim(args: {
  dataset: string;
  latencyMs: number;
  armModels: string[];
  judgeModel: string;
  faults?: FaultRule[];
  /** More judge models, each with the probability that it disagrees with the main judge. */
  extraJudges?: Record<string, number>;
  paraphraseModel?: string;
}): Promise<SimProcess> {
  const bin = join(__dirname, '..', '..', 'bin', 'thought-probe.js');
  const extra = [
    ...Object.entries(args.extraJudges ?? {}).flatMap(([m, r]) => ['--extra-judge', `${m}=${r}`]),
    ...(args.paraphraseModel ? ['--paraphrase-model', args.paraphraseModel] : []),
  ];
  const child = spawn(process.execPath, [bin, 'sim', '--port', '0', '--dataset', args.dataset, '--latency-ms', String(args.latencyMs), '--arm-models', args.armModels.join(','), '--judge-model', args.judgeModel, ...(args.faults ?? []).flatMap((f) => ['--fault', JSON.stringify(f)]), ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the simulated server did not start within 30 s')), 30_000);
    child.once('exit', (code) => reject(new Error(`the simulated server exited with code ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        child,
        stats: async () => (await fetch(`${m[1]!.replace(/\/v1$/, '')}/stats`)).json() as Promise<SimStats>,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
