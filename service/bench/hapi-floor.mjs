// The framework floor: hapi with the bare server's /health and nothing else, bundled like the service, so
// bare → this is what hapi costs, this → service what the service adds. PORT and HOST as the service's.
import { server as createServer } from '@hapi/hapi';

const server = createServer({
  port: Number(process.env.PORT ?? 8080),
  host: process.env.HOST ?? '127.0.0.1',
  debug: false,
});
server.listener.keepAliveTimeout = 65_000;
server.route({
  method: 'GET',
  path: '/health',
  handler: () => ({ success: true, data: { status: 'ok', uptimeSeconds: Math.round(process.uptime()) } }),
});

const stop = () => void server.stop({ timeout: 1000 });
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
server.start().catch((error) => {
  console.error(error);
  process.exit(1);
});
