import pg from 'pg';

/** The server the benchmarks run against: DATABASE_URL, or the local one. */
export const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Drops and recreates database `name` on that server; returns its connection URL. */
export async function freshDatabase(name) {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh database `name` with the baseline's table (`bench_baseline.items`, 1,000 rows), which the
 * raw baseline's primary-key select reads. Returns its connection URL.
 */
export async function freshDatabaseWithItems(name) {
  const url = await freshDatabase(name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA bench_baseline;
      CREATE TABLE bench_baseline.items (id int PRIMARY KEY, name text NOT NULL);
      INSERT INTO bench_baseline.items SELECT g, 'item ' || g FROM generate_series(1, 1000) g;`);
  } finally {
    await client.end();
  }
  return url;
}
