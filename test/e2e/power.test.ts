import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noteRecords, noteRecordsJsonl } from '../fixtures/noteRecords';
import { scoreRecord } from '../../src/experiment/metrics';
import { powerTable } from '../../src/experiment/power';
import { runCli } from '../helpers/e2e-cli';

const dir = mkdtempSync(join(tmpdir(), 'tp-power-'));
const samples = join(dir, 'samples.jsonl');
writeFileSync(samples, noteRecordsJsonl());

test('--json prints { arm: { condition: { effect, sd, prefixes, minimumDetectableEffect, prefixesNeeded } } } for the note\'s records', async () => {
  const r = await runCli(['power', '--samples', samples, '--json', '--effect', '0.1']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(Object.keys(out)).toEqual(['think_base', 'think_phase3', 'think_base_rlmt', 'think_phase3_rlmt']);
  for (const conds of Object.values<Record<string, Record<string, unknown>>>(out)) {
    expect(Object.keys(conds)).toEqual(['blank_thought', 'generic_thought', 'same_arm_swapped_thought']);
    for (const e of Object.values(conds)) expect(Object.keys(e)).toEqual(['effect', 'sd', 'prefixes', 'minimumDetectableEffect', 'prefixesNeeded']);
  }
  expect(out).toEqual(powerTable(noteRecords().map(scoreRecord), { effect: 0.1 }));
  // The note's swapped sensitivity of think_base, +0.1016 over 32 prefixes.
  expect(out.think_base.same_arm_swapped_thought.effect).toBe(0.1015625);
  expect(out.think_base.same_arm_swapped_thought.prefixes).toBe(32);
});

test('the table names the formula and has a row per arm and condition', async () => {
  const r = await runCli(['power', '--samples', samples, '--alpha', '0.01', '--power', '0.9']);
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('two-sided alpha 0.01, power 0.9');
  expect(r.stdout).toContain('n = ceil(((z(1 - alpha/2) + z(power)) x sd / D)^2)');
  expect(r.stdout.split('\n').filter((l) => l.startsWith('| `'))).toHaveLength(12);
});

test.each([
  [['--samples', 'SAMPLES', '--alpha', '2'], '--alpha: must be a number between 0 and 1'],
  [['--samples', 'SAMPLES', '--power', 'high'], '--power: must be a number between 0 and 1'],
  [['--samples', 'SAMPLES', '--effect', '0'], '--effect: must be a non-zero number'],
  [[], 'give either --samples FILE or --run RUN_ID'],
  [['--samples', 'SAMPLES', '--run', 'x'], 'give either --samples FILE or --run RUN_ID'],
])('bad input exits 2 naming the flag: %p', async (args, message) => {
  const r = await runCli(['power', ...args.map((a) => (a === 'SAMPLES' ? samples : a))]);
  expect(r.status).toBe(2);
  expect(r.stderr).toContain(message);
  expect(r.stdout).toBe('');
});
