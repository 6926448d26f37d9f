import { describeStore, runDirectory, runStoreAddress, storeAddressOf } from '../../src/store/address';

describe('runStoreAddress', () => {
  const file = { output: { dir: 'runs//' } };
  const pg = { output: { dir: '/data/runs' }, store: { kind: 'postgres' as const, urlEnv: 'PROBE_PG' } };

  it('names the run directory under output.dir, without doubled slashes', () => {
    expect(runDirectory(file, 'r1')).toBe('runs/r1');
    expect(runStoreAddress(file, 'r1')).toEqual({ storeDir: 'runs/r1' });
  });

  it('carries the PostgreSQL reference beside the run directory, as activity inputs always have', () => {
    const a = runStoreAddress(pg, 'r2');
    expect(a).toEqual({ storeDir: '/data/runs/r2', store: { kind: 'postgres', urlEnv: 'PROBE_PG', runId: 'r2' } });
    expect(storeAddressOf(a)).toEqual({ kind: 'postgres', urlEnv: 'PROBE_PG', runId: 'r2' });
    expect(describeStore(a)).toBe('the PostgreSQL store (PROBE_PG) of run r2');
  });

  it('opens the file store by its directory, old inputs included', () => {
    expect(storeAddressOf({ storeDir: 'runs/r1' })).toBe('runs/r1');
    expect(describeStore({ storeDir: 'runs/r1' })).toBe('runs/r1');
    expect(describeStore({ storeDir: 'x', store: { kind: 'file', dir: 'elsewhere/r1' } })).toBe('elsewhere/r1');
  });
});
