// The scheduler: replayed workflow policy (see README.md here).
export { ArmScheduler } from './scheduler';
export { JudgeSlotLedger, splitSlots, type SlotMessage } from './judgeSlots';
export type { ArmProgress, Batch, CompactRecord, Endpoint, GenerationResult, JudgeResult, ParaphraseResult, SampleFailure, ScheduleOptions } from './types';
export { armProgress, carryForward, emptyCarry, prefixesPerChunk, type ArmCarry, type ArmChunk } from './chunks';
