import { ConfigError } from '../../src/config/errors';
import { parseRunConfig } from '../../src/config/validate';
import {
  armConditionEntries,
  conditionNames,
  deriveThought,
  derivedConditionNames,
  fillerThought,
  interventionTable,
  shuffleSeed,
  shuffleThought,
  truncateThought,
  type InterventionSpec,
} from '../../src/experiment/interventions';
import { planCounts } from '../../src/experiment/plan';
import { wordCount } from '../../src/experiment/words';

const THOUGHT = 'The  river keeps rising\nso the town\tmoves uphill fast'; // 10 words
const WORDS = THOUGHT.trim().split(/\s+/);

describe('truncated_thought', () => {
  test.each([
    [0.5, 5],
    [0.25, 2],
    [0.1, 1],
    [0.09, 0],
    [0.99, 9],
  ])('keep %p of a 10-word thought gives its first %p words, joined by single spaces', (keep, words) => {
    const t = truncateThought(THOUGHT, keep);
    expect(wordCount(t)).toBe(words);
    expect(t).toBe(WORDS.slice(0, words).join(' '));
  });

  test('an empty thought stays empty', () => {
    expect(truncateThought('   ', 0.5)).toBe('');
  });
});

describe('filler_thought', () => {
  test('as many tokens as the own thought has words, and nothing of its content', () => {
    const f = fillerThought(THOUGHT);
    expect(wordCount(f)).toBe(wordCount(THOUGHT));
    expect(f).toBe(Array(10).fill('...').join(' '));
    expect(fillerThought(THOUGHT, 'um')).toBe(Array(10).fill('um').join(' '));
    expect(fillerThought('')).toBe('');
  });
});

describe('shuffled_thought', () => {
  const seed = shuffleSeed(4337, 'think_base', 3, 1);

  test('a permutation of the same words', () => {
    const s = shuffleThought(THOUGHT, seed);
    expect(s.split(' ').sort()).toEqual([...WORDS].sort());
    expect(s).not.toBe(WORDS.join(' '));
  });

  test('seeded by (run seed, arm, prefix, sample): the same slot gives the same order, other slots others', () => {
    expect(shuffleThought(THOUGHT, seed)).toBe(shuffleThought(THOUGHT, shuffleSeed(4337, 'think_base', 3, 1)));
    const others = [shuffleSeed(4338, 'think_base', 3, 1), shuffleSeed(4337, 'think_phase3', 3, 1), shuffleSeed(4337, 'think_base', 4, 1), shuffleSeed(4337, 'think_base', 3, 0)];
    expect(new Set(others.concat(seed)).size).toBe(5);
    const orders = new Set(others.map((s) => shuffleThought(THOUGHT, s)));
    expect(orders.size).toBeGreaterThan(1);
  });

  test('deriveThought uses the slot seed', () => {
    const spec: InterventionSpec = { name: 'shuffled', intervention: 'shuffled_thought' };
    expect(deriveThought(spec, THOUGHT, { runSeed: 4337, arm: 'think_base', prefixIndex: 3, sample: 1 })).toBe(shuffleThought(THOUGHT, seed));
  });
});

describe('cross_arm_thought', () => {
  test('takes the other arm\'s thought of the same slot as it is', () => {
    const spec: InterventionSpec = { name: 'from_phase3', intervention: 'cross_arm_thought', fromArm: 'think_phase3' };
    expect(deriveThought(spec, ' their thought ', { runSeed: 1, arm: 'think_base', prefixIndex: 0, sample: 0 })).toBe('their thought');
  });

  test('is not run on the arm it takes thoughts from', () => {
    const entries = ['normal_model_thought', { name: 'from_b', intervention: 'cross_arm_thought' as const, fromArm: 'b' }];
    expect(conditionNames(armConditionEntries(entries, 'a'))).toEqual(['normal_model_thought', 'from_b']);
    expect(conditionNames(armConditionEntries(entries, 'b'))).toEqual(['normal_model_thought']);
    expect(derivedConditionNames(entries, 'a')).toEqual(['from_b']);
    expect(derivedConditionNames(entries, 'b')).toEqual([]);
  });
});

describe('interventions in the config', () => {
  const rows = Array.from({ length: 3 }, (_, i) => ({ id: `r${i}`, prefix: `prefix ${i}`, suffix: `suffix ${i}` }));
  const base = (conditions: unknown[]) => ({
    name: 'unit',
    dataset: { rows },
    arms: [
      { name: 'a', baseURL: 'http://localhost:8000/v1', model: 'm' },
      { name: 'b', baseURL: 'http://localhost:8001/v1', model: 'm' },
    ],
    judge: { baseURL: 'http://localhost:8002/v1' },
    conditions: ['normal_model_thought', ...conditions],
  });
  const problems = (conditions: unknown[]): string[] => {
    try {
      parseRunConfig(base(conditions), 'test.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  test('objects next to the note\'s names, with their defaults; the note\'s names stay strings', () => {
    const c = parseRunConfig(base([
      'blank_thought',
      { name: 'trunc_50', intervention: 'truncated_thought', keep: 0.5 },
      { name: 'filler', intervention: 'filler_thought' },
      { name: 'shuffled', intervention: 'shuffled_thought' },
      { name: 'from_b', intervention: 'cross_arm_thought', fromArm: 'b' },
    ]));
    expect(c.conditions[1]).toBe('blank_thought');
    expect(c.conditions[3]).toEqual({ name: 'filler', intervention: 'filler_thought', token: '...' });
    expect(interventionTable(c.conditions)).toEqual({
      trunc_50: { intervention: 'truncated_thought', keep: 0.5 },
      filler: { intervention: 'filler_thought', token: '...' },
      shuffled: { intervention: 'shuffled_thought' },
      from_b: { intervention: 'cross_arm_thought', fromArm: 'b' },
    });
    // Every intervention starts from the own thought: one thought per slot, one suffix and judgment per condition.
    expect(planCounts(3, 4, armConditionEntries(c.conditions, 'a'))).toEqual({ thoughts: 12, suffixes: 72, judgments: 72 });
    expect(planCounts(3, 4, armConditionEntries(c.conditions, 'b'))).toEqual({ thoughts: 12, suffixes: 60, judgments: 60 });
  });

  test.each<[string, unknown, string]>([
    ['an unknown intervention', { name: 'x', intervention: 'truncated_thoughts', keep: 0.5 }, 'conditions[1].intervention: must be one of truncated_thought, filler_thought'],
    ['keep 0', { name: 'x', intervention: 'truncated_thought', keep: 0 }, 'conditions[1].keep: must be above 0 (keep 0 is blank_thought)'],
    ['keep 1', { name: 'x', intervention: 'truncated_thought', keep: 1 }, 'conditions[1].keep: must be below 1 (keep 1 is normal_model_thought)'],
    ['no keep', { name: 'x', intervention: 'truncated_thought' }, 'conditions[1].keep: is required'],
    ['fromArm not in the run', { name: 'x', intervention: 'cross_arm_thought', fromArm: 'c' }, 'conditions[1].fromArm: "c" is not an arm of this run; use one of a, b'],
    ['a paraphraser without a model', { name: 'x', intervention: 'paraphrased_thought', paraphraser: { baseURL: 'http://localhost:9/v1' } }, 'conditions[1].paraphraser.model: is required'],
    ['a name of the note', { name: 'blank_thought', intervention: 'shuffled_thought' }, "conditions[1].name: is one of the note's four conditions"],
    ['an unknown key', { name: 'x', intervention: 'shuffled_thought', keep: 0.5 }, 'conditions[1].keep: unknown key'],
    ['an unknown name', 'blank', 'conditions[1]: must be one of normal_model_thought, blank_thought, generic_thought, same_arm_swapped_thought, or an object'],
  ])('%s is named with its field', (_what, entry, problem) => {
    const p = problems([entry]);
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(problem);
  });

  test('two conditions of one name are refused', () => {
    expect(problems([{ name: 's', intervention: 'shuffled_thought' }, { name: 's', intervention: 'filler_thought' }])).toEqual([
      'conditions: list each condition once',
    ]);
  });

  test('a transplant needs another arm', () => {
    const one = { ...base([{ name: 'x', intervention: 'cross_arm_thought', fromArm: 'a' }]), arms: [{ name: 'a', baseURL: 'http://localhost:8000/v1', model: 'm' }] };
    expect(() => parseRunConfig(one, 't.yaml')).toThrow(/conditions\[1\]\.fromArm: a transplant needs another arm/);
  });
});

describe('judge sensitivity in the config', () => {
  const rows = Array.from({ length: 2 }, (_, i) => ({ id: `r${i}`, prefix: `prefix ${i}`, suffix: `suffix ${i}` }));
  const base = (over: Record<string, unknown>) => ({
    name: 'unit', dataset: { rows }, arms: [{ name: 'a', baseURL: 'http://localhost:8000/v1', model: 'm' }], judge: { baseURL: 'http://localhost:8002/v1' }, ...over,
  });
  const problems = (over: Record<string, unknown>) => {
    try {
      parseRunConfig(base(over), 't.yaml');
    } catch (e) {
      return (e as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  };

  test('without repeats or judges the resolved config is what it always was', () => {
    const c = parseRunConfig(base({}));
    expect('repeats' in c.judge).toBe(false);
    expect('judges' in c).toBe(false);
  });

  test('an even repeats, a judge without a name, a judge named "judge" and two judges of one name are named with their fields', () => {
    expect(problems({ judge: { baseURL: 'http://localhost:8002/v1', repeats: 2 } })).toEqual(['judge.repeats: must be odd (1, 3, 5, ...), so that a majority of the judgments decides the reward']);
    expect(problems({ judges: [{ baseURL: 'http://localhost:8003/v1' }] })[0]).toMatch(/^judges\[0\]\.name: /);
    expect(problems({ judges: [{ name: 'judge', baseURL: 'http://localhost:8003/v1' }] })[0]).toMatch(/^judges\[0\]\.name: "judge" names the main judge/);
    expect(problems({ judges: [{ name: 'b', baseURL: 'http://localhost:8003/v1' }, { name: 'b', baseURL: 'http://localhost:8004/v1' }] })).toEqual(['judges: judge names must be unique']);
    expect(problems({ judges: [{ name: 'b', baseURL: 'http://localhost:8003/v1', taskQueue: 'q' }] })).toEqual(['judges[0].taskQueue: unknown key']);
  });

  test('extra judges get the judge defaults', () => {
    const c = parseRunConfig(base({ judges: [{ name: 'b', baseURL: 'http://localhost:8003/v1', model: 'other', repeats: 3 }] }));
    expect(c.judges![0]).toMatchObject({ name: 'b', model: 'other', repeats: 3, temperature: 0.7, topP: 0.6, maxTokens: 64, invalidRetries: 2, maxConcurrency: 32 });
  });
});
