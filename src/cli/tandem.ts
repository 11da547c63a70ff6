#!/usr/bin/env node
/**
 * The package's command line. `tandem serve` runs the custodian with its configuration from the
 * environment (see docs/custodian-api.md); `tandem demo` runs a wallet's whole lifecycle against a custodian it
 * starts (what `npm start` runs).
 */
import { loadConfig } from '../server/config.js';
import { startServer } from '../server/server.js';
import { isTandemError } from '../errors.js';

async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const server = await startServer(config);
  // A PostgreSQL URL may hold a password: name the kind and schema, never the URL.
  const database = /^postgres(ql)?:\/\//.test(config.databasePath) ? `PostgreSQL, schema ${config.databaseSchema}` : config.databasePath;
  process.stdout.write(`tandem custodian listening on ${server.url} (database ${database})\n`);
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: shutting down\n`);
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

const command = process.argv[2];
const main = command === 'serve' ? serve : command === 'demo' ? () => import('./main-job.js').then(() => undefined) : null;
if (!main) {
  process.stderr.write('usage: tandem serve | tandem demo\n');
  process.exit(2);
}
main().catch((err: unknown) => {
  process.stderr.write(`tandem ${command}: ${isTandemError(err) ? err.shortMessage : 'failed to start'}\n`);
  process.exit(1);
});
