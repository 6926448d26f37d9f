import { Context } from '@temporalio/activity';
import { createPrepareRun, createWriteArtifacts } from './artifacts';
import { atBoundary } from './classify';
import { resolveDeps, type ActivityDeps } from './deps';
import { createGenerate } from './generate';
import { createJudge } from './judge';
import { createParaphrase } from './paraphrase';

function cancelled(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    // Called outside an activity (a unit test calling the function directly).
    return false;
  }
}

/**
 * Builds the activities a worker registers, from their dependencies (the real ones for whatever is not given).
 * Each is wrapped so that every error it throws is classified at its boundary (src/errors).
 */
export function createActivities(deps: Partial<ActivityDeps> = {}) {
  const d = resolveDeps(deps);
  return {
    generate: atBoundary('generate', createGenerate(d), cancelled),
    judge: atBoundary('judge', createJudge(d), cancelled),
    paraphrase: atBoundary('paraphrase', createParaphrase(d), cancelled),
    prepareRun: atBoundary('prepareRun', createPrepareRun(d), cancelled),
    writeArtifacts: atBoundary('writeArtifacts', createWriteArtifacts(d), cancelled),
  };
}

/** The activities' types, for `proxyActivities<Activities>` in workflows. */
export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './deps';
export type { GenerateInput } from './generate';
export type { JudgeInput } from './judge';
export type { ParaphraseInput } from './paraphrase';
export type { PrepareRunInput, WriteArtifactsInput, ArtifactPaths, SampleError } from './artifacts';
