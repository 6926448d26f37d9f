// The workflows a worker registers (its workflowsPath points here).
export { probeRun } from './probeRun';
export { probeArm } from './probeArm';
