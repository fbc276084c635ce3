import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  /** The status the receiver answered. */
  answered: number;
}

/**
 * A webhook receiver on a free port: records every request; `answer` picks the status of
 * each (e.g. 500 for the first request of a delivery id, 200 after).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private server?: Server;
  url = '';

  constructor(private readonly answer: (request: Omit<ReceivedWebhook, 'answered'>, earlier: ReceivedWebhook[]) => number = () => 200) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const request = { path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        const answered = this.answer(request, [...this.received]);
        this.received.push({ ...request, answered });
        res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered < 300 ? 'ok' : 'receiver unavailable');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Requests to one path. */
  at(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  async close(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** 500 to the first request of each delivery id, 200 to any later one. */
export function failFirst(request: Omit<ReceivedWebhook, 'answered'>, earlier: ReceivedWebhook[]): number {
  const id = request.headers['x-mlops-delivery-id'];
  return earlier.some((r) => r.path === request.path && r.headers['x-mlops-delivery-id'] === id) ? 200 : 500;
}
