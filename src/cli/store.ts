import { migrate, SCHEMA_VERSION } from '../store/migrate';
import { closePostgresPools, describeUrl, postgresPool, redactUrl } from '../store/postgres';
import { InputError } from './errors';

/**
 * `thought-probe store migrate`: applies the schema migrations the store's database lacks (see ./commands).
 * The URL comes from the environment variable the option names; neither it nor its password is ever printed.
 */
export async function storeMigrate(opts: { urlEnv: string }): Promise<void> {
  const env = opts.urlEnv;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(env)) throw new InputError(`--url-env: "${env}" is not an environment variable name`);
  const url = process.env[env];
  if (!url) {
    throw new InputError(`${env} is not set: export ${env}=postgres://USER:PASSWORD@HOST:PORT/DATABASE (the run store's database), or name the variable that holds it with --url-env`);
  }
  const where = `${describeUrl(url)} (${env})`;
  try {
    const { applied, version } = await migrate(postgresPool(url));
    if (applied.length === 0) process.stdout.write(`store schema at ${where} is current: version ${version}, nothing to do\n`);
    else process.stdout.write(`store schema at ${where} migrated to version ${version} (applied ${applied.join(', ')})\n`);
    if (version > SCHEMA_VERSION) process.stdout.write(`note: the database is at a newer version than this thought-probe knows (${SCHEMA_VERSION}); upgrade the workers\n`);
  } catch (e) {
    const err = e as { message?: string; code?: string };
    // A fresh error, not the driver's: nothing of the URL may travel on in a cause or a stack.
    throw new Error(`migrating the store at ${where} failed: ${redactUrl(err?.message ?? String(e), url)}${err?.code ? ` (${err.code})` : ''}`);
  } finally {
    await closePostgresPools();
  }
}

/** Migrates the store's schema at a worker's start (its pool stays open for the worker), saying what it did. */
export async function migrateFromEnv(env: string): Promise<void> {
  const url = process.env[env]!;
  const where = `${describeUrl(url)} (${env})`;
  try {
    const { applied, version } = await migrate(postgresPool(url));
    process.stdout.write(`store schema at ${where}: version ${version}${applied.length ? ` (applied ${applied.join(', ')})` : ''}\n`);
  } catch (e) {
    const err = e as { message?: string; code?: string };
    throw new Error(`migrating the store at ${where} at worker start failed: ${redactUrl(err?.message ?? String(e), url)}${err?.code ? ` (${err.code})` : ''}`);
  }
}
