import { Command, CommanderError } from 'commander';
import { reportError } from './errors';
import { registerCommands } from './commands';

const program = new Command();
program
  .name('thought-probe')
  .description('Causal thought-use experiments on language models, run as durable Temporal workflows')
  .exitOverride()
  .showHelpAfterError();

// Registration is cheap: each command loads its implementation only when it runs (./commands).
registerCommands(program);

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
