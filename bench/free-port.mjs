// Prints a TCP port free on 127.0.0.1, below the machine's ephemeral range (so no outgoing
// connection can take it between now and the server's listen, as one did in a CI smoke run:
// EADDRINUSE on a port bind(0) had handed out), and not one of the ports given as arguments
// (picked earlier, not bound yet).
// usage: node bench/free-port.mjs [PORT ...]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const taken = new Set(process.argv.slice(2).map(Number));
let ephemeralStart = 32768;
try {
  ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || ephemeralStart;
} catch {
  // not Linux: the usual start of the range
}
// Above deploy/local's servers (15432, 16379, 19092-19094 by default), which a fault test may
// have stopped for a moment.
const LOW = 25000;

const listens = (port) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

for (let attempt = 0; attempt < 200; attempt++) {
  const port = LOW + Math.floor(Math.random() * (ephemeralStart - LOW));
  if (!taken.has(port) && (await listens(port))) {
    console.log(port);
    process.exit(0);
  }
}
console.error(`free-port: no free port found between ${LOW} and ${ephemeralStart - 1}`);
process.exit(1);
