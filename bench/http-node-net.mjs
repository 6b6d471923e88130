// The http benchmark's node:net server: the responder of examples/http-hello.ts
// ("Hello, world!\n" to every request, keep-alive) over a plain node:net socket, each
// request head found by its blank line (the client sends GETs without bodies).
// suite.mjs runs it in a process of its own and drives it through the protocol of
// echo-server-control.mjs.
import net from 'node:net';
import { serverControl } from './echo-server-control.mjs';

const BODY = 'Hello, world!\n';
const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\n' +
  `Content-Length: ${Buffer.byteLength(BODY)}\r\n` +
  'Connection: keep-alive\r\n' +
  '\r\n' +
  BODY,
);

const sockets = new Set();
const server = net.createServer({ noDelay: true }, (socket) => {
  sockets.add(socket);
  let pending = '';
  socket.setEncoding('latin1');
  socket.on('data', (text) => {
    pending += text;
    for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
      pending = pending.slice(end + 4);
      socket.write(RESPONSE);
    }
  });
  // The client drops its connections when it stops measuring: resets are expected.
  socket.on('error', () => {});
  socket.on('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1', () => {
  serverControl({
    port: server.address().port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    }),
  });
});
