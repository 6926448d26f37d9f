import { Command, CommanderError } from 'commander';
import { reportError } from './errors';
import * as analyze from './analyze';
import * as config from './config';
import * as sim from './sim';
import * as worker from './worker';
import * as run from './run';
import * as status from './status';
import * as demo from './demo';
import * as resume from './resume';
import * as dataset from './dataset';
import * as history from './history';
import * as replay from './replay';
import * as debug from './debug';
import * as compare from './compare';

const program = new Command();
program
  .name('thought-probe')
  .description('Causal thought-use experiments on language models, run as durable Temporal workflows')
  .exitOverride()
  .showHelpAfterError();

for (const m of [run, status, resume, debug, history, replay, worker, demo, analyze, compare, config, dataset, sim]) m.register(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; a usage mistake is bad input.
      process.exit(err.exitCode === 0 ? 0 : 2);
    }
    process.exit(reportError(err));
  }
}

void main();
