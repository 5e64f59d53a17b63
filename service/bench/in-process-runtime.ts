// A minimal Lambda Runtime API client for the in-process reference: the entry of its bundle. A lower bound:
// the managed runtime's client (aws-lambda-ric) does more. docs/performance.md#the-adapters-share-of-a-cold-start
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { handler } from './in-process-handler.ts';

const api = process.env.AWS_LAMBDA_RUNTIME_API ?? '127.0.0.1:9001';
const [hostname = '127.0.0.1', port = '9001'] = api.split(':');
// One kept-alive connection, as aws-lambda-ric's client keeps.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function call(
  method: 'GET' | 'POST',
  path: string,
  body?: string,
): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('end', () => {
        resolve({ headers: res.headers, body: text });
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}

const base = '/2018-06-01/runtime/invocation';
for (;;) {
  const next = await call('GET', `${base}/next`);
  const id = String(next.headers['lambda-runtime-aws-request-id']);
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  const context = {
    awsRequestId: id,
    invokedFunctionArn: String(next.headers['lambda-runtime-invoked-function-arn']),
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const result: unknown = await handler(JSON.parse(next.body), context, () => undefined);
    await call('POST', `${base}/${id}/response`, JSON.stringify(result));
  } catch (error) {
    const errorType = error instanceof Error ? error.name : 'Error';
    const errorMessage = error instanceof Error ? error.message : String(error);
    await call('POST', `${base}/${id}/error`, JSON.stringify({ errorType, errorMessage }));
  }
}
