/**
 * History <-> proto JSON, with the SDK's helpers (`historyToJSON` / `historyFromJSON` of @temporalio/common).
 *
 * Those helpers call protobufjs's `ext/protojson` from @temporalio/common's own copy of protobufjs on a type
 * built by @temporalio/proto's copy. When npm does not dedupe the two copies (here: protobufjs 7 is hoisted for
 * @grpc/proto-loader, so common, proto and worker each get a nested protobufjs 8), protojson's `instanceof
 * Type` check fails with "type must be a Type". Then the same conversion is done with the protobufjs copy that
 * @temporalio/proto itself loads, which is what the helpers mean to do.
 */
import { dirname } from 'node:path';
import * as sdkProtoUtils from '@temporalio/common/lib/proto-utils';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import type { History } from './files';

interface ReflectedType {
  create(o: unknown): unknown;
}
interface ProtoJson {
  toJson(type: ReflectedType, message: unknown, options?: unknown): unknown;
  fromJson(type: ReflectedType, json: unknown, options?: unknown): unknown;
}

let fallback: { protojson: ProtoJson; historyType: ReflectedType } | undefined;

function protoOwnProtojson() {
  if (!fallback) {
    // The protobufjs that @temporalio/proto resolves (nested or hoisted), so its Type passes protojson's checks.
    const protoDir = dirname(require.resolve('@temporalio/proto/package.json'));
    // A path known only at run time (whichever protobufjs copy @temporalio/proto resolves), so a require.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as ProtoJson;
    const root = patchProtobufRoot(proto as unknown as Record<string, unknown>) as unknown as { lookupType(name: string): ReflectedType };
    fallback = { protojson, historyType: root.lookupType('temporal.api.history.v1.History') };
  }
  return fallback;
}

function isDuplicateProtobufError(e: unknown): boolean {
  return e instanceof TypeError && /must be a Type/.test(e.message);
}

/** The proto JSON text of a history, as `temporal workflow show --output json` and the replayer use it. */
export function historyToJSON(history: History): string {
  try {
    return sdkProtoUtils.historyToJSON(history as never);
  } catch (e) {
    if (!isDuplicateProtobufError(e)) throw e;
    const { protojson, historyType } = protoOwnProtojson();
    const message = proto.temporal.api.history.v1.History.fromObject(history as never);
    return JSON.stringify(protojson.toJson(historyType, message), null, 2);
  }
}

function pascalToConstant(s: string): string {
  return s.replace(/[^\b][A-Z]/g, (m) => `${m[0]}_${m[1]}`).toUpperCase();
}

/** The enum spellings of old exports (`WorkflowExecutionStarted`) made into proto JSON's (`EVENT_TYPE_...`); as the SDK does. */
function fixEnums(history: { events: Record<string, unknown>[] }): unknown {
  const fix = (obj: Record<string, unknown> | undefined, attr: string, prefix: string) => {
    const v = obj?.[attr];
    return typeof v === 'string' ? { [attr]: v.startsWith(prefix) ? v : `${prefix}_${pascalToConstant(v)}` } : {};
  };
  return {
    events: history.events.map((e) => {
      const key = Object.keys(e).find((k) => k.endsWith('EventAttributes'));
      if (!key) throw new TypeError(`Missing attributes in history event: ${JSON.stringify(e).slice(0, 200)}`);
      const a = e[key] as Record<string, unknown>;
      const tq = a.taskQueue as Record<string, unknown> | undefined;
      const cf = a.childWorkflowExecutionFailureInfo as Record<string, unknown> | undefined;
      return {
        ...e,
        ...fix(e, 'eventType', 'EVENT_TYPE'),
        [key]: {
          ...a,
          ...(tq ? { taskQueue: { ...tq, ...fix(tq, 'kind', 'TASK_QUEUE_KIND') } } : {}),
          ...fix(a, 'parentClosePolicy', 'PARENT_CLOSE_POLICY'),
          ...fix(a, 'workflowIdReusePolicy', 'WORKFLOW_ID_REUSE_POLICY'),
          ...fix(a, 'initiator', 'CONTINUE_AS_NEW_INITIATOR'),
          ...fix(a, 'retryState', 'RETRY_STATE'),
          ...(cf ? { childWorkflowExecutionFailureInfo: { ...cf, ...fix(cf, 'retryState', 'RETRY_STATE') } } : {}),
        },
      };
    }),
  };
}

/** A history from its proto JSON (an object with an `events` array). */
export function historyFromJSON(json: unknown): History {
  try {
    return sdkProtoUtils.historyFromJSON(json);
  } catch (e) {
    if (!isDuplicateProtobufError(e)) throw e;
    const { protojson, historyType } = protoOwnProtojson();
    const loaded = protojson.fromJson(historyType, fixEnums(json as { events: Record<string, unknown>[] }), { ignoreUnknownFields: true });
    if (!loaded) throw new TypeError('Invalid history');
    return loaded as History;
  }
}
