import { createServer } from 'node:net';

/** Returns a TCP port on 127.0.0.1 that refuses connections: bound by the kernel, then closed. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) {
    throw new Error('the kernel assigned no port');
  }

  return address.port;
}
