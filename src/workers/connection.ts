import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** Where Temporal is: from Temporal's standard environment settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS, API key, profiles). */
export interface TemporalSettings {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
}

/** Reads Temporal's standard environment settings, defaulting to the local dev server. */
export function temporalSettings(): TemporalSettings {
  const c = loadClientConnectConfig();
  return {
    connectionOptions: { ...c.connectionOptions, address: c.connectionOptions.address ?? 'localhost:7233' },
    namespace: c.namespace ?? 'default',
  };
}
