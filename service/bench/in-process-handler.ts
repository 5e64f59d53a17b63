// The in-process reference: the same service wrapped in @h4ad/serverless-adapter (hapi, API Gateway HTTP API
// v2), as a user who picks an in-process adapter over the Web Adapter writes it. docs/performance.md.
import { ServerlessAdapter } from '@h4ad/serverless-adapter';
import { ApiGatewayV2Adapter } from '@h4ad/serverless-adapter/adapters/aws';
import { HapiFramework } from '@h4ad/serverless-adapter/frameworks/hapi';
import { DefaultHandler } from '@h4ad/serverless-adapter/handlers/default';
import { PromiseResolver } from '@h4ad/serverless-adapter/resolvers/promise';
import { loadConfig } from '../src/config.ts';
import { createServer } from '../src/server.ts';

// Built and initialised during init (top-level await), never listening: requests go to its listener.
const server = await createServer(loadConfig());
await server.initialize();

export const handler = ServerlessAdapter.new(server)
  .setFramework(new HapiFramework())
  .setHandler(new DefaultHandler())
  .setResolver(new PromiseResolver())
  .addAdapter(new ApiGatewayV2Adapter())
  .build();
