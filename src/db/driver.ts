/**
 * The narrow surface Rampart needs from a Postgres connection. Two drivers implement it: PGlite
 * (embedded, in-process) and node-postgres (a real server through a pool). Everything above this
 * file is written once against it, so the same SQL, migrations and RLS policies run on both.
 */
export interface QueryResult<Row> {
  rows: Row[];
  /** Rows returned or affected by the statement. */
  rowCount: number;
}

export interface SqlExecutor {
  /** Runs one parameterised statement (`$1`, `$2`, …). Parameters are never interpolated into the text. */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters: migrations only. */
  exec(script: string): Promise<void>;
}

export interface DatabaseDriver {
  readonly kind: 'embedded' | 'postgres';
  /** Runs `fn` inside BEGIN … COMMIT on one connection, as the connecting role; rolls back when `fn` throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
