// The development database: DATABASE_URL when set, otherwise an embedded PostgreSQL whose data lives in
// the gitignored .data/ folder so it survives restarts.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';

export const DEV_DATA_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../.data/postgres',
);
export const DEV_DATABASE_PORT = 54329;

export async function startDevelopmentDatabase(): Promise<{ url: string; embedded?: EmbeddedDatabase }> {
  const url = process.env.DATABASE_URL;
  if (url !== undefined && url !== '') return { url };
  const embedded = await startEmbeddedPostgres({
    dataDir: DEV_DATA_DIR,
    port: Number(process.env.EMBEDDED_POSTGRES_PORT ?? DEV_DATABASE_PORT),
    persistent: true,
  });
  return { url: embedded.url, embedded };
}

export async function withDevelopmentDatabase(work: (url: string) => Promise<void>): Promise<void> {
  const { url, embedded } = await startDevelopmentDatabase();
  try {
    await work(url);
  } finally {
    await embedded?.stop();
  }
}
