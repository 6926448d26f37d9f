// `thought-probe view`'s server and the catalog it reads runs from.
export { startViewServer, type ViewServer, type ViewServerOptions } from './server';
export type { FailedSample, OpenedRun, RunCatalog, RunListing } from './catalog';
