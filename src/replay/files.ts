import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import { plainPayload } from '../codec';
import { historyFromJSON } from './protojson';
import type { temporal } from '@temporalio/proto';

/** A workflow history, as the client fetches it and the replayer takes it. */
export type History = temporal.api.history.v1.IHistory;

/** A history to replay with the workflow id it ran under. */
export interface NamedHistory {
  workflowId: string;
  history: History;
  /** Where it came from: a file path or `server`. */
  source: string;
  /** Which execution of the workflow id it is, from 1, when the workflow continued as new (an arm run in chunks). */
  execution?: number;
}

/**
 * The file name of a workflow's history: the workflow id with `/` written as `__` (so `r1/arm/think_base` is
 * `r1__arm__think_base.json`), other characters unsafe in file names percent-encoded.
 */
export function historyFileName(workflowId: string, execution = 1): string {
  const safe = workflowId
    .split('/')
    .map((part) => part.replace(/[^A-Za-z0-9._@+=,-]|_(?=_)|_$|^_/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`))
    .join('__');
  // Later executions of a workflow that continued as new: `~2`, `~3`... (an id's own `~` is always encoded).
  return `${safe}${execution > 1 ? `~${execution}` : ''}.json`;
}

/** The workflow id a history file name stands for (the inverse of historyFileName), or undefined. */
export function workflowIdFromFileName(file: string): string | undefined {
  const name = basename(file).replace(/\.json$/i, '').replace(/~\d+$/, '');
  if (!name) return undefined;
  try {
    return name
      .split('__')
      .map((part) => decodeURIComponent(part))
      .join('/');
  } catch {
    return undefined;
  }
}

function decodeInput(history: History): unknown[] {
  const payloads = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  return payloads.map((p) => {
    try {
      return defaultPayloadConverter.fromPayload(plainPayload(p as never));
    } catch {
      return undefined;
    }
  });
}

/** The workflow type of a history (from its first event). */
export function workflowTypeOf(history: History): string | undefined {
  return history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? undefined;
}

/**
 * The workflow id a history ran under: from its first event when the server recorded it there, else (for an
 * arm child) from its input's run id and arm, else from the file name.
 */
export function workflowIdOf(history: History, file?: string): string | undefined {
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (started?.workflowId) return started.workflowId;
  if (workflowTypeOf(history) === 'probeArm') {
    const input = decodeInput(history)[0] as { runId?: string; arm?: string } | undefined;
    if (input?.runId && input.arm) return `${input.runId}/arm/${input.arm}`;
  }
  return file ? workflowIdFromFileName(file) : undefined;
}

function toHistory(h: unknown, source: string): History {
  try {
    return historyFromJSON(h);
  } catch (e) {
    throw new Error(`${source}: not a readable workflow history (${(e as Error).message})`);
  }
}

/**
 * Parses a history in proto JSON: what `thought-probe history` and `historyToJSON` write, and what
 * `temporal workflow show --output json` prints (a `{events: [...]}` object, possibly with enum names in
 * either spelling). Throws a message naming the file when it is not a history.
 */
export function parseHistoryJSON(text: string, source = 'input'): History {
  const [first, ...rest] = parseHistoryDocument(text, source);
  if (rest.length) throw new Error(`${source}: holds ${rest.length + 1} histories; expected one`);
  return first!.history;
}

/**
 * The histories of a JSON document: one history (`{events}`, or `{history: {events}}`), or several as
 * `thought-probe history --children` prints them to stdout (`{histories: [{workflowId, history}]}`).
 */
export function parseHistoryDocument(text: string, source = 'input'): NamedHistory[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`);
  }
  const obj = json as { events?: unknown; history?: { events?: unknown }; histories?: { workflowId?: string; history?: unknown }[] };
  if (Array.isArray(obj?.histories)) {
    return obj.histories.map((entry, i) => {
      const history = toHistory(entry?.history, `${source} [${i}]`);
      const workflowId = entry?.workflowId ?? workflowIdOf(history);
      if (!workflowId) throw new Error(`${source} [${i}]: no workflowId`);
      return { workflowId, history, source: `${source} [${i}]` };
    });
  }
  const h = Array.isArray(obj?.events) ? obj : Array.isArray(obj?.history?.events) ? obj.history : undefined;
  if (!h) throw new Error(`${source}: not a workflow history (expected an object with an "events" array)`);
  const history = toHistory(h, source);
  if (!history.events?.length) throw new Error(`${source}: the history has no events`);
  const workflowId = workflowIdOf(history, source);
  if (!workflowId) throw new Error(`${source}: cannot tell the workflow id; name the file <workflowId>.json (\`/\` written as \`__\`)`);
  return [{ workflowId, history, source }];
}

/** Reads a history file (or a document of several) with the workflow id of each history. */
export function readHistoryFile(file: string): NamedHistory[] {
  return parseHistoryDocument(readFileSync(file, 'utf8'), file);
}
