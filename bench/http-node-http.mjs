// The http benchmark's baseline server: node:http on 127.0.0.1 answering every request
// with the responder of examples/http-hello.ts ("Hello, world!\n", keep-alive).
// suite.mjs runs it in a process of its own and drives it through the protocol of
// echo-server-control.mjs.
import http from 'node:http';
import { serverControl } from './echo-server-control.mjs';

const BODY = 'Hello, world!\n';
const HEADERS = { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(BODY) };

const server = http.createServer((req, res) => {
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
server.listen(0, '127.0.0.1', () => {
  serverControl({
    port: server.address().port,
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  });
});
