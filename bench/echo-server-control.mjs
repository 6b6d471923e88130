// What both echo servers of the benchmark (echo-node-net.mjs, echo-uring.mjs) say and
// hear, so suite.mjs drives them alike:
//   stdout  {"port":N} once listening (or {"unavailable":"why"} and exit 0, from the
//           server before it gets here); {"cpuUs":N} for each "cpu" line on stdin;
//           {"cpuUs":N,"stopped":true} on stop.
//   stdin   "cpu" asks for the CPU time used since listening (user + system, µs);
//           "stop", the end of stdin, or SIGTERM stops the server: it reports its CPU
//           time, closes, and exits 0.
// CPU is counted from the moment the server listens, so startup and module loading
// are not charged to the requests.

/** Reports `port` and serves control requests until stopped; `close()` ends the server. */
export function serverControl({ port, close, ...extra }) {
  const cpuAtListen = process.cpuUsage();
  const cpuUs = () => {
    const used = process.cpuUsage(cpuAtListen);
    return used.user + used.system;
  };
  // Writes to a pipe are synchronous on Linux: nothing is lost at process.exit.
  const say = (record) => process.stdout.write(`${JSON.stringify(record)}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say({ cpuUs: cpuUs(), stopped: true });
    // A close that hangs must not keep the benchmark waiting.
    setTimeout(() => process.exit(0), 2000).unref();
    try {
      await close();
    } catch {
      // Already reported; the process ends either way.
    }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.setEncoding('utf8');
  let pending = '';
  process.stdin.on('data', (text) => {
    pending += text;
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end).trim();
      pending = pending.slice(end + 1);
      if (line === 'cpu') say({ cpuUs: cpuUs() });
      else if (line === 'stop') stop();
    }
  });
  process.stdin.on('end', stop);
  say({ port, ...extra });
}
