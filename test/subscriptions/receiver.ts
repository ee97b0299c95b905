/**
 * A notification endpoint for the tests: a real HTTP server on 127.0.0.1 that records each request
 * and answers it as the test says (a status, or no answer at all). Tests wait for requests as they
 * arrive (next()), never on timers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The status to answer with, or 'hang' to hold the request open until the receiver closes. */
export type Answer = number | 'hang';

export class Receiver {
  private readonly queue: Received[] = [];
  private readonly waiting: Array<(r: Received) => void> = [];
  /** How the next requests are answered, in order; once used up, `otherwise`. */
  answers: Answer[] = [];
  otherwise: Answer = 204;
  received = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<Receiver> {
    const server = http.createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => receiver.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** The next request, in order of arrival (already arrived, or the next to come). */
  next(): Promise<Received> {
    const ready = this.queue.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = this.answers.shift() ?? this.otherwise;
      this.received++;
      const received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      const waiter = this.waiting.shift();
      if (waiter) waiter(received);
      else this.queue.push(received);
      if (answer !== 'hang') res.writeHead(answer).end();
    });
  }
}
