import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyHttpOptions, FastifyInstance } from 'fastify';
import { errorBody } from './errors.ts';
import { nodeHttp } from './node-http.ts';
import type { HttpOptions } from './options.ts';
import { type ProxyTrust, unmapped } from './trusted-proxies.ts';

// Slow clients hold memory: a partial body, a queue of answers nobody reads. Each limit below
// bounds one way; together they bound the memory slow clients can make the server hold to
// about maxConnections × (bodyLimit + one answer's buffers), each for a limited time. Routes
// with a larger body limit of their own raise that only for the callers they let in before the
// body is read (authentication runs on the headers): the batch route's 512 KiB only for app and
// admin keys, so anonymous clients still hold at most bodyLimit each, and backends at most
// maxConnections × 512 KiB (1 GiB at the default 2,048: cap connections per key holder with
// TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS). The Stripe webhook (1 MiB) is checked by signature
// after its body is read, so where Stripe is configured an anonymous client can hold 1 MiB.

type SlowClientOptions = Pick<
  HttpOptions,
  'requestTimeoutMs' | 'idleTimeoutMs' | 'maxConnections' | 'maxConnectionsPerAddress' | 'maxPipelined'
>;

/** The Fastify options that time slow clients out. */
export function slowClientServerOptions(options: SlowClientOptions): FastifyHttpOptions<Server> {
  return {
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.idleTimeoutMs,
    keepAliveTimeout: options.idleTimeoutMs,
    http: {
      headersTimeout: Math.min(60_000, options.requestTimeoutMs),
      // Node checks the request timeout every 30 s by default: a quarter of it is closer.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(options.requestTimeoutMs / 4))),
    },
    clientErrorHandler,
  };
}

const unanswered = Symbol('tokenmeter.unanswered');
type CountedSocket = Socket & { [unanswered]?: number };

/**
 * Caps connections, in all and per client address (so one client cannot take every slot), and
 * closes a connection that has more than `maxPipelined` requests unanswered: Node answers
 * pipelined requests in order, buffering each later answer in full until the earlier ones are
 * read, so a client that sends many and reads none would make the server hold them all.
 */
export function installSlowClientLimits(app: FastifyInstance, options: SlowClientOptions, trusted: ProxyTrust): void {
  app.server.maxConnections = options.maxConnections;
  capPerAddress(
    app.server,
    options.maxConnectionsPerAddress ?? Math.max(1, Math.floor(options.maxConnections / 10)),
    trusted,
    app.log,
  );
  app.addHook('onRequest', (request, reply, done) => {
    const socket = request.raw.socket as CountedSocket;
    const depth = (socket[unanswered] ?? 0) + 1;
    socket[unanswered] = depth;
    reply.raw.once('close', () => {
      socket[unanswered] = (socket[unanswered] ?? 1) - 1;
    });
    if (depth <= options.maxPipelined) return done();
    request.log.warn({ depth }, 'closing a connection with too many pipelined requests unanswered');
    socket.destroy();
  });
}

/**
 * Closes, as it arrives and unanswered, a connection from an address that already holds `cap`.
 * A trusted proxy is exempt: its connections carry many clients.
 */
function capPerAddress(server: Server, cap: number, trusted: ProxyTrust, log: FastifyBaseLogger): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined || trusted(address)) return;
    const key = unmapped(address);
    const count = (open.get(key) ?? 0) + 1;
    if (count > cap) {
      // debug, not warn: a flood from one address would otherwise write a line per connection.
      log.debug({ address: key, cap }, 'closing a connection: this address holds its cap');
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}

/**
 * Answers what the HTTP parser rejects before any route runs (a request not received in full
 * within the request timeout, headers too large, a malformed request) in the service's JSON
 * error shape, then closes the connection. A reset connection gets nothing.
 */
function clientErrorHandler(this: { log: FastifyBaseLogger }, err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'request: not received in full within the request timeout']
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'headers: too large']
        : [400, 'request: not valid HTTP'];
  this.log.debug({ code: err.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(errorBody('invalid_request', message));
    socket.write(
      `HTTP/1.1 ${status} ${nodeHttp.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
