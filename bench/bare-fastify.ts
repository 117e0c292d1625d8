// The HTTP baseline: a Fastify route that does no work, on the same Node, in its own process.
//   node bench/bare-fastify.ts <port>
// It parses the same JSON body the service would and answers a small JSON document.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/api/tokens/deduct', async () => ({ success: true }));
app.get('/healthz', async () => ({ ok: true }));
await app.listen({ port: Number(process.argv[2] ?? 0), host: '127.0.0.1' });
const stop = () => {
  app.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
