import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/errors';
import { resolveConfigFile } from '../../src/config/load';
import { parseRunConfig } from '../../src/config/validate';
import { configJsonSchema } from '../../src/cli/config';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, prefix: `prefix ${i}`, suffix: `suffix ${i}` }));

function minimal(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'unit',
    dataset: { rows: rows(3) },
    arms: [{ name: 'think_base', baseURL: 'http://localhost:8000/v1', model: 'm' }],
    judge: { baseURL: 'http://localhost:8001/v1' },
    ...over,
  };
}

/** The problems of a config that must fail. */
function problemsOf(input: unknown): string[] {
  try {
    parseRunConfig(input, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRunConfig', () => {
  it('applies the defaults of EXPERIMENT.md', () => {
    const c = parseRunConfig(minimal());
    expect(c.seed).toBe(4337);
    expect(c.samplesPerPrefix).toBe(4);
    expect(c.generation.temperature).toBe(1.0);
    expect(c.generation.topP).toBe(0.95);
    expect(c.generation.thoughtMaxTokens).toBe(48);
    expect(c.generation.suffixMaxTokens).toBe(128);
    expect(c.judge.temperature).toBe(0.7);
    expect(c.judge.topP).toBe(0.6);
    expect(c.judge.maxTokens).toBe(64);
    expect(c.judge.invalidRetries).toBe(2);
    expect(c.judge.model).toBe('qwen-judge');
    expect(c.judge.scorePattern).toBe('"score"\\s*:\\s*([01])');
    expect(c.dataset.limit).toBe(32);
    expect(c.dataset.shuffle).toBe(false);
    expect(c.conditions).toEqual(['normal_model_thought', 'blank_thought', 'generic_thought', 'same_arm_swapped_thought']);
    expect(c.prompt).toEqual({ mode: 'completions', thought: '{prefix} <think>', suffix: '{prefix} <think>{thought}</think>' });
    expect(c.genericThoughts).toHaveLength(4);
  });

  it('keeps values that are given', () => {
    const c = parseRunConfig(minimal({ seed: 7, samplesPerPrefix: 2, conditions: ['normal_model_thought', 'blank_thought'] }));
    expect(c.seed).toBe(7);
    expect(c.samplesPerPrefix).toBe(2);
    expect(c.conditions).toEqual(['normal_model_thought', 'blank_thought']);
  });

  it('names an unknown key with its path and a did-you-mean hint', () => {
    const problems = problemsOf(minimal({ judge: { baseURL: 'http://localhost:8001/v1', modle: 'qwen-judge' } }));
    const line = problems.find((p) => p.startsWith('judge.modle: unknown key'));
    expect(line).toBeDefined();
    expect(line).toContain('"model"');
  });

  it('points an apiKey in an arm to apiKeyEnv', () => {
    const problems = problemsOf(minimal({ arms: [{ name: 'a', baseURL: 'http://x/v1', model: 'm', apiKey: 'sk-123' }] }));
    const line = problems.find((p) => p.startsWith('arms[0].apiKey: unknown key'));
    expect(line).toBeDefined();
    expect(line).toContain('apiKeyEnv');
    expect(problems.join('\n')).not.toContain('sk-123');
  });

  it('requires normal_model_thought among the conditions', () => {
    const problems = problemsOf(minimal({ conditions: ['blank_thought', 'generic_thought'] }));
    expect(problems).toEqual(['conditions: must include normal_model_thought, the causal baseline']);
  });

  it('rejects a condition listed twice and an unknown condition', () => {
    expect(problemsOf(minimal({ conditions: ['normal_model_thought', 'normal_model_thought'] }))).toEqual(['conditions: list each condition once']);
    expect(problemsOf(minimal({ conditions: ['normal_model_thought', 'no_thought'] }))[0]).toMatch(/^conditions\[1\]: /);
  });

  it('rejects the swapped condition with a single prefix, by rows or by limit', () => {
    const byRows = problemsOf(minimal({ dataset: { rows: rows(1) } }));
    expect(byRows).toHaveLength(1);
    expect(byRows[0]).toMatch(/^conditions: same_arm_swapped_thought needs at least 2 prefixes/);
    const byLimit = problemsOf(minimal({ dataset: { rows: rows(5), limit: 1 } }));
    expect(byLimit[0]).toMatch(/^conditions: same_arm_swapped_thought needs at least 2 prefixes/);
  });

  it('accepts a single prefix without the swapped condition', () => {
    const c = parseRunConfig(minimal({ dataset: { rows: rows(1) }, conditions: ['normal_model_thought', 'blank_thought'] }));
    expect(c.dataset.rows).toHaveLength(1);
  });

  it('rejects a base URL that is not http(s)', () => {
    const problems = problemsOf(minimal({ arms: [{ name: 'a', baseURL: 'localhost:8000', model: 'm' }] }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^arms\[0\]\.baseURL: must be an http\(s\) URL/);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      dataset: { rows: rows(3) },
      arms: [{ name: 'a', baseURL: 'ftp://x', model: 'm' }],
      judge: { baseURL: 'http://localhost:8001/v1', modle: 'x' },
      samplesPerPrefix: 0,
    });
    expect(problems).toHaveLength(4);
    expect(problems).toContain('name: is required');
    expect(problems.some((p) => p.startsWith('arms[0].baseURL: must be an http(s) URL'))).toBe(true);
    expect(problems.some((p) => p.startsWith('judge.modle: unknown key'))).toBe(true);
    expect(problems.some((p) => p.startsWith('samplesPerPrefix: '))).toBe(true);
  });

  it('puts the source and every problem in the error message', () => {
    try {
      parseRunConfig({}, 'my.yaml');
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const err = e as ConfigError;
      expect(err.source).toBe('my.yaml');
      expect(err.message.startsWith('my.yaml: invalid config\n')).toBe(true);
      for (const p of err.problems) expect(err.message).toContain(`  ${p}`);
    }
  });
});

describe('resolveConfigFile', () => {
  function project(lines: string[], config: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'tp-config-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'rows.jsonl'), lines.join('\n') + '\n');
    const file = join(dir, 'run.yaml');
    writeFileSync(file, config);
    return file;
  }
  const jsonl = (n: number) => rows(n).map((r) => JSON.stringify(r));
  const yaml = (dataset: string) =>
    [
      'name: unit',
      'seed: 11',
      'dataset:',
      dataset,
      'arms:',
      '  - name: think_base',
      '    baseURL: http://localhost:8000/v1',
      '    model: m',
      'judge:',
      '  baseURL: http://localhost:8001/v1',
      '',
    ].join('\n');

  it('reads the dataset relative to the config file, inlines the rows and applies the limit', () => {
    const file = project(jsonl(5), yaml('  path: data/rows.jsonl\n  limit: 3'));
    const c = resolveConfigFile(file);
    expect(c.dataset.path).toBeUndefined();
    expect(c.dataset.rows!.map((r) => r.id)).toEqual(['r0', 'r1', 'r2']);
    expect(c.dataset.rows![1]).toEqual({ id: 'r1', prefix: 'prefix 1', suffix: 'suffix 1' });
    expect(c.dataset.limit).toBe(3);
    expect(c.dataset.source).toBe('data/rows.jsonl');
  });

  it('shuffles with the run seed: the same seed gives the same order', () => {
    const a = resolveConfigFile(project(jsonl(10), yaml('  path: data/rows.jsonl\n  shuffle: true')));
    const b = resolveConfigFile(project(jsonl(10), yaml('  path: data/rows.jsonl\n  shuffle: true')));
    const ids = a.dataset.rows!.map((r) => r.id);
    expect(b.dataset.rows!.map((r) => r.id)).toEqual(ids);
    expect([...ids].sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
    expect(ids).not.toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
    // The resolved config is final: resolving it again does not shuffle again.
    expect(a.dataset.shuffle).toBe(false);
  });

  it('cuts after shuffling', () => {
    const full = resolveConfigFile(project(jsonl(10), yaml('  path: data/rows.jsonl\n  shuffle: true')));
    const cut = resolveConfigFile(project(jsonl(10), yaml('  path: data/rows.jsonl\n  shuffle: true\n  limit: 4')));
    expect(cut.dataset.rows!.map((r) => r.id)).toEqual(full.dataset.rows!.slice(0, 4).map((r) => r.id));
  });

  it('reports a malformed dataset line with its line number', () => {
    const lines = jsonl(4);
    lines.splice(1, 0, ''); // a blank line 2 is skipped but still counted
    lines[2] = '{"id": "bad", "prefix": ';
    const file = project(lines, yaml('  path: data/rows.jsonl'));
    try {
      resolveConfigFile(file);
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^dataset\.path: .*rows\.jsonl: line 3: not valid JSON$/);
    }
  });

  it('reports a row missing a field with its line number', () => {
    const lines = jsonl(3);
    lines[1] = JSON.stringify({ id: 'x', prefix: 'p' });
    const file = project(lines, yaml('  path: data/rows.jsonl'));
    expect(() => resolveConfigFile(file)).toThrow(/rows\.jsonl: line 2: suffix/);
  });

  it('reports a missing dataset file as a ConfigError', () => {
    const file = project(jsonl(3), yaml('  path: data/nope.jsonl'));
    expect(() => resolveConfigFile(file)).toThrow(ConfigError);
  });
});

describe('the committed JSON Schema', () => {
  it('is what `config schema` writes (run `npm run schema` after changing the config schema)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'thought-probe.schema.json'), 'utf8'));
    expect(committed).toEqual(configJsonSchema());
  });
});
