import { loadRows, startSimServer, type FaultRule } from '../sim';
import { InputError } from './errors';

/** `--extra-judge NAME=RATE` flags as model names with their disagreement rates. */
function extraJudges(flags: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of flags ?? []) {
    const [name, rate = '0'] = f.split('=');
    const r = Number(rate);
    if (!name || !Number.isFinite(r) || r < 0 || r > 1) throw new InputError(`--extra-judge: expected NAME=RATE with RATE between 0 and 1, got "${f}"`);
    out[name] = r;
  }
  return out;
}

/** `thought-probe sim` (its arguments and options are in ./commands, which loads this module to run it). */
export async function simCommand(o: Record<string, string | FaultRule[] | undefined>): Promise<void> {
  const server = await startSimServer({
    port: Number(o.port),
    host: o.host as string,
    rows: await loadRows(o.dataset as string),
    judgeModel: o.judgeModel as string,
    armModels: o.armModels ? String(o.armModels).split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    latencyMs: Number(o.latencyMs),
    apiKey: o.apiKey as string | undefined,
    judgeInvalidRate: Number(o.judgeInvalidRate),
    faults: o.fault as FaultRule[],
    extraJudges: extraJudges(o.extraJudge as unknown as string[] | undefined),
    ...(o.paraphraseModel ? { paraphraseModel: String(o.paraphraseModel) } : {}),
  });
  console.log(`simulated OpenAI-compatible server (SIMULATION) listening on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
