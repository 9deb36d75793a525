// Loaded with `node --import` before the agent: when the daemon's modules load the better-sqlite3
// package, the process sends itself the signals named in EDGE_TEST_SIGNALS (comma-separated),
// which is before the daemon's own start code runs.
import Module from 'node:module';

const signals = (process.env.EDGE_TEST_SIGNALS ?? '').split(',').filter(Boolean);
const load = Module._load;
let sent = false;
Module._load = function (request, ...rest) {
  if (!sent && request.includes('better-sqlite3')) {
    sent = true;
    for (const signal of signals) {
      process.kill(process.pid, signal);
    }
  }

  return load.call(this, request, ...rest);
};
