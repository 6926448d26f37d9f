import { CODEC_KEYS_ENV, codecFromEnv, startCodecServer } from '../codec';
import { InputError } from './errors';

/** `thought-probe codec-server` (its arguments and options are in ./commands, which loads this module to run it). */
export async function codecServerCommand(o: { port: string; host: string; corsOrigin?: string[] }): Promise<void> {
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`--port: "${o.port}" is not a port number (0-65535)`);
  const codec = codecFromEnv();
  if (!codec) throw new InputError(`${CODEC_KEYS_ENV} is not set: the codec server needs the keys, e.g. export ${CODEC_KEYS_ENV}=k1=$(openssl rand -base64 32) (the same value as the workers')`);
  const server = await startCodecServer({ codec, port, host: o.host, corsOrigins: o.corsOrigin, log: (l) => process.stderr.write(`${l}\n`) });
  // Key ids only: the keys themselves are never printed.
  process.stdout.write(`codec server listening on ${server.url} (key ids ${codec.keyIds.join(', ')}; encrypting with ${codec.keyIds[0]}); use it as the UI's codec endpoint or \`temporal workflow show --codec-endpoint ${server.url}\`\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
