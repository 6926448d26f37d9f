/** A transplant's thought comes from the other arm's store entry for the same slot, written by another process. */
import { FileRunStore } from '../../src/store/file';
import { derivedThought } from '../../src/activities/derived';
import { SourceThoughtFailedError } from '../../src/errors';
import type { InterventionSpec } from '../../src/experiment/interventions';
import { tempDir } from '../helpers/configs';

const spec: InterventionSpec = { name: 'from_b', intervention: 'cross_arm_thought', fromArm: 'b' };
const slot = { runSeed: 4337, arm: 'a', prefixId: 'p1', prefixIndex: 1, sample: 2 };

test('a transplant waits for the other arm\'s thought of the same slot, stored later by another writer', async () => {
  const dir = tempDir();
  const reader = new FileRunStore(dir);
  // Another process: a store of its own over the same files, so the reader hears of nothing but what it reads.
  const writer = new FileRunStore(dir);
  await writer.put('b', 'thoughts', { key: 'p0/2', thought: 'not this slot', closedThought: true });
  const pending = derivedThought(reader, spec, slot, new AbortController().signal, 'test');
  let settled = false;
  void pending.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 600));
  expect(settled).toBe(false);
  await writer.put('b', 'thoughts', { key: 'p1/2', thought: '  the other arm thought  ', closedThought: false });
  await expect(pending).resolves.toEqual({ thought: 'the other arm thought', closedThought: false, thoughtSource: { arm: 'b', prefixId: 'p1', sample: 2 } });
});

test("the other arm's thought failing for that sample fails this sample too", async () => {
  const dir = tempDir();
  const reader = new FileRunStore(dir);
  const pending = derivedThought(reader, spec, slot, new AbortController().signal, 'test');
  await new FileRunStore(dir).put('b', 'failures', { key: 'p1/2', error: 'arm b ...: 400 prompt too long' });
  await expect(pending).rejects.toBeInstanceOf(SourceThoughtFailedError);
  await expect(derivedThought(reader, spec, slot, new AbortController().signal, 'test')).rejects.toThrow(/the thought p1\/2 of arm b that from_b transplants failed: arm b .*400/);
});

test('a cancelled activity stops waiting', async () => {
  const ac = new AbortController();
  const pending = derivedThought(new FileRunStore(tempDir()), spec, slot, ac.signal, 'test');
  ac.abort(new Error('cancelled'));
  await expect(pending).rejects.toThrow('cancelled');
});
