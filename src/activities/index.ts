import { generate } from './generate';
import { judge } from './judge';
import { prepareRun, writeArtifacts } from './artifacts';

/** Dependencies of the activities (room for test fakes; the defaults do real I/O). */
export type ActivityDeps = Record<string, never>;

/** Builds the activities a worker registers. */
export function createActivities(_deps: ActivityDeps = {}) {
  return { generate, judge, prepareRun, writeArtifacts };
}

/** The activities' types, for `proxyActivities<Activities>` in workflows. */
export type Activities = ReturnType<typeof createActivities>;
export type { GenerateInput } from './generate';
export type { JudgeInput } from './judge';
export type { PrepareRunInput, WriteArtifactsInput, ArtifactPaths, SampleError } from './artifacts';
