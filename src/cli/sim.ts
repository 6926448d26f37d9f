import { loadRows, startSimServer, type FaultRule } from '../sim';

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
  });
  console.log(`simulated OpenAI-compatible server (SIMULATION) listening on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
