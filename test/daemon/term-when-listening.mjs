// Loaded with `node --import` before the agent: once the status endpoint listens, the process
// sends itself SIGTERM, while the agent is still loading and starting its uplink.
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';

const createServer = http.createServer;
http.createServer = (...args) => {
  const server = createServer(...args);
  server.once('listening', () => process.kill(process.pid, 'SIGTERM'));
  return server;
};
syncBuiltinESMExports();
