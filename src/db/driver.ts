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

/** What request code gets: one parameterised statement per call, nothing else. */
export interface SqlExecutor {
  /**
   * Runs exactly one statement, with parameters (`$1`, `$2`, …) sent separately from the text
   * (the extended protocol, even without parameters), so no value ever becomes SQL and a text
   * holding several statements is refused.
   */
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<Row>>;
}

/** What the owner gets in maintenance transactions: also scripts of several statements (migrations). */
export interface OwnerSqlExecutor extends SqlExecutor {
  exec(script: string): Promise<void>;
}

export interface DatabaseDriver {
  readonly kind: 'embedded' | 'postgres';
  /** Runs `fn` inside BEGIN … COMMIT on one connection, as the connecting role; rolls back when `fn` throws. */
  transaction<T>(fn: (tx: OwnerSqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs one parameterised statement on its own — outside BEGIN … COMMIT, so it is its own
   * transaction — as the connecting role, in one round trip. `name` identifies the statement: a
   * server keeps it prepared per connection, parsed and planned once.
   */
  queryPrepared<Row>(name: string, text: string, params: readonly unknown[]): Promise<QueryResult<Row>>;
  close(): Promise<void>;
}
