// Parses the command line and dispatches to a command; every command prints what it did and returns an
// exit code (non-zero on failure).
import { ConfigError, loadConfig } from '../config.js';
import { serve } from './serve.js';
import { migrate } from './migrate.js';
import { createTokenCommand } from './token-create.js';
import { vapidGenerate } from './vapid-generate.js';
import { pushTestCommand } from './push-test.js';
import { diagnoseCommand, statusCommand } from './diagnostics.js';

const USAGE = `Usage: herald <command>

Commands:
  serve                      API and delivery worker in one process (the default of npm start)
  web                        the API only
  worker                     the delivery worker only
  migrate                    apply database migrations and exit
  vapid generate             print a new VAPID key pair for HERALD_VAPID_PUBLIC_KEY/PRIVATE_KEY
  token create --account <id> [--scopes "read write push"] [--client <name>]
                             mint an access token for an account
  push test --account <id>   send a test push to each of the account's subscriptions and print the outcomes
  push diagnose --account <id>
                             why the account's phones get (or do not get) pushes, in plain words
  status                     processes, ingest, queue and push services at a glance
  help                       this text

Settings come from the environment: see the README.`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  // `herald serve --help` must explain, not start a server.
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(loadConfig(), { web: true, worker: true });
      case 'web':
        return await serve(loadConfig(), { web: true, worker: false });
      case 'worker':
        return await serve(loadConfig(), { web: false, worker: true });
      case 'migrate':
        return await migrate(loadConfig());
      case 'vapid':
        if (rest[0] === 'generate') return vapidGenerate();
        break;
      case 'token':
        if (rest[0] === 'create') return await createTokenCommand(loadConfig(), rest.slice(1));
        break;
      case 'push':
        if (rest[0] === 'test') return await pushTestCommand(loadConfig(), rest.slice(1));
        if (rest[0] === 'diagnose') return await diagnoseCommand(loadConfig(), rest.slice(1));
        break;
      case 'status':
        return await statusCommand(loadConfig());
      case 'help':
      case '--help':
      case '-h':
        console.log(USAGE);
        return 0;
    }
    console.error(`herald: unknown command "${argv.join(' ')}"\n\n${USAGE}`);
    return 2;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`herald: configuration error: ${error.message}`);
      return 78; // EX_CONFIG
    }
    console.error(`herald: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

/** Reads `--name value` flags. */
export function readFlags(args: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      else flags.set(arg.slice(2), args[++i] ?? '');
    }
  }
  return flags;
}
