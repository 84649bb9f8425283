// The HTTP floor: a bare Fastify route answering a fixed page, the same bytes Herald answered.
import fs from 'node:fs';
import Fastify from 'fastify';

const body = fs.readFileSync(process.env.BASELINE_BODY_FILE!, 'utf8');
const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.get('/page', (_request, reply) => {
  reply.type('application/json; charset=utf-8').send(body);
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
