/**
 * Simulated OpenAI-compatible server for demos and tests. All numbers it produces are SIMULATED.
 * Note: the 'down' fault destroys the socket per request; a true connection-refused is obtained with close().
 */
export { startSimServer } from './server';
export { loadRows } from './rows';
export { judgeScore } from './judge';
export { FINGERPRINT } from './shapes';
export type { DatasetRow, FaultKind, FaultRule, ModelStats, SimOptions, SimServer, SimStats, ThoughtClass } from './types';
