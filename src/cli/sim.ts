import type { Command } from 'commander';
import { loadRows, startSimServer, type FaultRule } from '../sim';

function collect(value: string, prev: FaultRule[]): FaultRule[] {
  return [...prev, JSON.parse(value) as FaultRule];
}

/** Registers `thought-probe sim`, which runs the simulated OpenAI-compatible server until SIGINT/SIGTERM. */
export function register(program: Command): void {
  program
    .command('sim')
    .description('run the SIMULATED OpenAI-compatible server (arms + judge) used by the demo and tests')
    .option('--port <port>', 'port to listen on (0 = random)', '8000')
    .option('--host <host>', 'host to bind', '127.0.0.1')
    .requiredOption('--dataset <file>', 'JSONL rows {id, prefix, suffix}')
    .option('--judge-model <name>', 'judge model name', 'qwen-judge')
    .option('--arm-models <list>', 'comma-separated arm model names')
    .option('--latency-ms <n>', 'fixed latency per request', '0')
    .option('--api-key <key>', 'require this bearer token')
    .option('--judge-invalid-rate <r>', 'probability of an invalid judge answer', '0')
    .option('--fault <json>', 'fault rule as JSON (repeatable)', collect, [] as FaultRule[])
    .action(async (o: Record<string, string | FaultRule[] | undefined>) => {
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
    });
}
