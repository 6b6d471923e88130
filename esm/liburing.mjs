// ES module entry of uring-aio/liburing: the CommonJS module's objects, re-exported.
export * from '../dist/liburing.js';
