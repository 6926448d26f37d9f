import { ArmScheduler } from '../../src/workflows/schedule';

test('progress carries running reward means per condition over valid judgments', () => {
  const s = new ArmScheduler({
    arm: 'a',
    prefixes: [{ id: 'p0', index: 0 }, { id: 'p1', index: 1 }],
    samples: 2,
    conditions: ['normal_model_thought', 'blank_thought'],
    swap: null,
    armSlots: 8,
    judgeSlots: 8,
    maxRequestsPerActivity: 64,
  });
  // Generate everything, then judge: blank gets rewards 1, 0, null, 1 (mean 2/3 over 3 valid).
  for (let round = 0; round < 5 && !s.isDone(); round++) {
    for (const b of s.nextBatches()) {
      if (b.endpoint === 'arm') {
        s.completeGeneration(b.seq, b.items.map((i) => ({ stage: i.stage as 'thought' | 'suffix', prefixIndex: i.prefixIndex, sample: i.sample, ...(i.condition ? { condition: i.condition } : {}), error: null, thoughtWords: 3, suffixWords: 5 })));
      } else {
        s.completeJudge(b.seq, b.items.map((i) => {
          const k = i.prefixIndex * 2 + i.sample;
          const reward = i.condition === 'blank_thought' ? ([1, 0, null, 1] as const)[k]! : 0;
          return { prefixIndex: i.prefixIndex, sample: i.sample, condition: i.condition!, reward, attempts: 1, error: null };
        }));
      }
    }
  }
  expect(s.isDone()).toBe(true);
  const p = s.progress();
  expect(p.rewards.blank_thought).toEqual({ judged: 4, valid: 3, mean: 2 / 3 });
  expect(p.rewards.normal_model_thought).toEqual({ judged: 4, valid: 4, mean: 0 });
  expect(p.judgmentsWaiting).toBe(0);
});
