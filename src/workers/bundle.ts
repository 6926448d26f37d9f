import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';

/** Where `npm run build` puts the workflow code bundled once: beside the compiled workflows, in dist/. */
export const PREBUILT_BUNDLE = join(__dirname, '..', 'workflow-bundle.js');

const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };

let inProcess: Promise<WorkflowBundleOption> | undefined;

/**
 * The workflow code for this process's workers: the bundle `npm run build` wrote (no bundling at start, which
 * takes seconds and hundreds of MB), else bundled here once and shared by every worker of the process.
 */
export function workflowCode(workflowsPath: string): Promise<WorkflowBundleOption> {
  if (existsSync(PREBUILT_BUNDLE)) return Promise.resolve({ codePath: PREBUILT_BUNDLE });
  inProcess ??= bundleWorkflowCode({ workflowsPath, logger: quiet as never });
  return inProcess;
}

/** Bundles the compiled workflows into dist/workflow-bundle.js (run by `npm run build`). */
export async function writePrebuiltBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quiet as never });
  writeFileSync(PREBUILT_BUNDLE, code);
}

if (require.main === module) {
  writePrebuiltBundle().catch((e: unknown) => {
    process.stderr.write(`cannot bundle the workflows: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
