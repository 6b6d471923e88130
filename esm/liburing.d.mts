export * from '../dist/liburing.js';
