// ES module entry of uring-aio/fs: the CommonJS module's objects, re-exported (one
// instance, so one ring per thread whichever way it is loaded).
export * from '../dist/fs.js';
export { default } from '../dist/fs.js';
