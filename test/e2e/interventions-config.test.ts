import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/e2e-cli';

test('examples/interventions.yaml checks out: the note\'s shape plus the interventions and two judges', async () => {
  const r = await runCli(['config', 'check', 'examples/interventions.yaml']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('4 arms, 32 prefixes, 4 samples, 11 conditions');
});

test('config check exits 2 naming every bad field of the interventions and judges', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-interventions-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, [
    'name: bad',
    'dataset: { rows: [{ id: a, prefix: p, suffix: s }, { id: b, prefix: p, suffix: s }] }',
    'conditions:',
    '  - normal_model_thought',
    '  - { name: t, intervention: truncated_thought, keep: 1.5 }',
    '  - { name: p, intervention: paraphrased_thought, paraphraser: { baseURL: "http://127.0.0.1:9/v1", maxConcurrency: 2 } }',
    '  - { name: u, intervention: underlined_thought }',
    'arms: [{ name: a, baseURL: "http://127.0.0.1:8000/v1", model: m }, { name: b, baseURL: "http://127.0.0.1:8000/v1", model: m }]',
    'judge: { baseURL: "http://127.0.0.1:8000/v1", repeats: 2 }',
    '',
  ].join('\n'));
  const r = await runCli(['config', 'check', file]);
  expect(r.status).toBe(2);
  for (const field of ['conditions[1].keep', 'conditions[2].paraphraser.model', 'conditions[3].intervention', 'judge.repeats']) expect(r.stderr).toContain(field);
  // A transplant from an arm the run does not have (checked once every entry is well formed).
  const other = join(dir, 'from.yaml');
  writeFileSync(other, [
    'name: from',
    'dataset: { rows: [{ id: a, prefix: p, suffix: s }] }',
    'conditions: [normal_model_thought, { name: x, intervention: cross_arm_thought, fromArm: nope }]',
    'arms: [{ name: a, baseURL: "http://127.0.0.1:8000/v1", model: m }, { name: b, baseURL: "http://127.0.0.1:8000/v1", model: m }]',
    'judge: { baseURL: "http://127.0.0.1:8000/v1" }',
    '',
  ].join('\n'));
  const f = await runCli(['config', 'check', other]);
  expect(f.status).toBe(2);
  expect(f.stderr).toContain('conditions[1].fromArm: "nope" is not an arm of this run; use one of a, b');
});
