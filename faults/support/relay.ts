// A loopback TCP relay in front of API processes: round robin over its targets
// (one per connection, as an L4 load balancer does), targets that can change
// while it runs (an API restarted on a new port), and a switch that holds the
// API's answers back, so a test can kill the API after a request arrived but
// before its answer left.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Relay {
  url: string;
  setTargets(urls: string[]): void;
  /** While true, bytes from the API to the client are kept back (and dropped if the connection dies). */
  holdAnswers: boolean;
  /** While true, bytes from clients are kept back: a request arrives but the API never sees it. */
  holdRequests: boolean;
  /** Bytes received from clients so far (to see that a request went through). */
  readonly bytesIn: number;
  /** Ends every open connection (the clients see a reset). */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startRelay(targets: string[]): Promise<Relay> {
  let ports = targets.map((t) => Number(new URL(t).port));
  let next = 0;
  let bytesIn = 0;
  const sockets = new Set<Socket>();
  const relay: Relay = {
    url: '',
    holdAnswers: false,
    holdRequests: false,
    get bytesIn() {
      return bytesIn;
    },
    setTargets(urls) {
      ports = urls.map((t) => Number(new URL(t).port));
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        relay.dropConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((client) => {
    const port = ports[next++ % ports.length]!;
    const upstream = connect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => s.destroy());
    }
    client.on('data', (chunk: Buffer) => {
      bytesIn += chunk.length;
      if (!relay.holdRequests) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!relay.holdAnswers) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return relay;
}
