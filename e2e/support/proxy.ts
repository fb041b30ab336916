// A loopback TCP relay between the console and the API, so a test can take the
// API off the network mid-edit (as a dropped VPN or a restarting server would)
// and bring it back on the same address.
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Relay {
  url: string;
  /** Hands every byte the console sends through the relay to `listener` (what an eavesdropper on the path would see); returns the way to stop. */
  tap(listener: (chunk: Buffer) => void): () => void;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startRelay(target: string): Promise<Relay> {
  const { hostname, port: targetPort } = new URL(target);
  const sockets = new Set<Socket>();
  const taps = new Set<(chunk: Buffer) => void>();
  let server: Server | null = null;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(targetPort), hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.on('data', (chunk: Buffer) => taps.forEach((listener) => listener(chunk)));
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });

  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server) return resolve();
      server.close(() => resolve());
      server = null;
    });

  await listen();
  const tap = (listener: (chunk: Buffer) => void) => {
    taps.add(listener);
    return () => void taps.delete(listener);
  };
  return { url: `http://127.0.0.1:${port}`, tap, down, up: listen, close: down };
}
