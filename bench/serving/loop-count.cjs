// Preloaded into a server by paired-ab.sh (node -r): on SIGUSR2 appends libuv's loop iteration
// and event counters (performance.nodeTiming.uvMetricsInfo, Node >= 22) to the file in
// LOOP_COUNT_FILE, one JSON line per signal, so the measured window's iterations per request
// can be read off. Not for production use.
const { appendFileSync } = require('node:fs');
const file = process.env.LOOP_COUNT_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    const { loopCount, events } = performance.nodeTiming.uvMetricsInfo;
    appendFileSync(file, `${JSON.stringify({ loopCount, events })}\n`);
  });
}
