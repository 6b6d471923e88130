// The echo benchmark's baseline server: node:net on 127.0.0.1, each chunk written back
// as it arrives. suite.mjs runs it in a process of its own and drives it through the
// protocol of echo-server-control.mjs.
import net from 'node:net';
import { serverControl } from './echo-server-control.mjs';

const sockets = new Set();
const server = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  socket.on('data', (d) => socket.write(d));
  // The client drops its connections when it stops measuring: resets are expected.
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  serverControl({
    port: server.address().port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      // close() waits for open connections to end: end them.
      for (const socket of sockets) socket.destroy();
    }),
  });
});
