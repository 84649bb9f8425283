// One short-lived PostgreSQL client for a test's setup and checks (creating databases, reading rows).
import pg from 'pg';

export async function withPgClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
