// The raw baseline: Fastify and node-postgres with nothing else — no logging, no hooks, no
// transaction, no auth. Rampart's figures are reported as a fraction of this server's.
import Fastify from 'fastify';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));
app.get('/items/:id', async (request) => {
  const { rows } = await pool.query('SELECT id, name FROM bench_baseline.items WHERE id = $1', [Number(request.params.id)]);
  return rows[0] ?? null;
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.on('SIGTERM', () => {
  void app.close().then(() => pool.end()).then(() => process.exit(0));
});
