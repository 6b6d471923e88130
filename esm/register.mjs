// ES module entry of uring-aio/fs/register (`node --import uring-aio/fs/register`): the
// CommonJS module, which does the routing once per thread whichever way it is loaded.
export * from '../dist/register.js';
