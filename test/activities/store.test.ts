/** The run store's lifetime in a long-lived worker: finished runs are released, and only recent stores stay. */
import { releaseStore, storeFor } from '../../src/store';
import { tempDir } from '../helpers/configs';

test('a released store reads its entries back from the files; the ninth store evicts the least recently used', async () => {
  const dir = tempDir();
  const first = storeFor(dir);
  await first.put('arm', 'records', { key: 'p0/0/blank_thought', reward: 1 });
  expect(storeFor(dir)).toBe(first);

  releaseStore(dir);
  const again = storeFor(dir);
  expect(again).not.toBe(first);
  expect(again.peek('arm', 'records', 'p0/0/blank_thought')).toBeUndefined();
  expect(await again.get('arm', 'records', 'p0/0/blank_thought')).toEqual({ key: 'p0/0/blank_thought', reward: 1 });
  // The released instance still writes (it reopens its file), and the entry lands in the same file.
  await first.put('arm', 'records', { key: 'p1/0/blank_thought', reward: 0 });
  expect((await again.all('arm', 'records')).map((e) => (e as { key: string }).key)).toEqual(['p0/0/blank_thought', 'p1/0/blank_thought']);

  // A released store no longer holds its entries in memory.
  expect(first.peek('arm', 'records', 'p0/0/blank_thought')).toBeUndefined();

  const others = Array.from({ length: 8 }, () => storeFor(tempDir()));
  expect(new Set(others).size).toBe(8);
  expect(storeFor(dir)).not.toBe(again);
});
