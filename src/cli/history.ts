import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { historyFileName, type NamedHistory } from '../replay/files';
import { historyToJSON } from '../replay/protojson';
import { fetchRunHistories } from '../replay/replay';
import { runNotFound } from './errors';
import { connectClient } from './temporal';

/**
 * Where each history goes for `--out`: an existing directory or a path ending in `/` takes one file per
 * workflow named by historyFileName (`<runId>.json`, `<runId>__arm__<arm>.json`); any other path is the first
 * workflow's file, and the others are written next to it with the rest of their ids appended
 * (`out.json`, `out__arm__think_base.json`).
 */
export function outputFiles(out: string, ids: string[], executions: (number | undefined)[] = []): string[] {
  const isDir = /[/\\]$/.test(out) || (existsSync(out) && statSync(out).isDirectory());
  if (isDir) return ids.map((id, i) => join(out, historyFileName(id, executions[i])));
  const stem = out.replace(/\.json$/i, '');
  const first = ids[0]!;
  const firstName = historyFileName(first).replace(/\.json$/, '');
  return ids.map((id, i) => {
    if (i === 0) return `${stem}.json`;
    const name = historyFileName(id, executions[i]).replace(/\.json$/, '');
    return `${stem}${name.startsWith(`${firstName}__`) ? name.slice(firstName.length) : `__${name}`}.json`;
  });
}

/** Proto JSON of several histories in one document: `{histories: [{workflowId, history}]}` (what `replay` reads too). */
export function bundleJSON(items: NamedHistory[]): string {
  const parts = items.map((i) => `    { "workflowId": ${JSON.stringify(i.workflowId)}, "history": ${historyToJSON(i.history).replace(/\n/g, '\n    ')} }`);
  return `{\n  "histories": [\n${parts.join(',\n')}\n  ]\n}`;
}

/** `thought-probe history RUN_ID` (its arguments and options are in ./commands, which loads this module to run it). */
export async function historyCommand(runId: string, opts: { out?: string; children?: boolean }): Promise<void> {
  const client = await connectClient();
  const items = await fetchRunHistories(client, runId, !!opts.children).catch(runNotFound(runId));
  if (!opts.out) {
    process.stdout.write(`${items.length === 1 ? historyToJSON(items[0]!.history) : bundleJSON(items)}\n`);
    return;
  }
  const files = outputFiles(opts.out, items.map((i) => i.workflowId), items.map((i) => i.execution));
  items.forEach((item, i) => {
    mkdirSync(dirname(files[i]!), { recursive: true });
    writeFileSync(files[i]!, `${historyToJSON(item.history)}\n`);
    const which = item.execution ? ` (execution ${item.execution})` : '';
    process.stdout.write(`${item.workflowId}${which}: ${item.history.events?.length ?? 0} events -> ${files[i]}\n`);
  });
}
