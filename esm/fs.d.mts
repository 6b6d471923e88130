export * from '../dist/fs.js';
export { default } from '../dist/fs.js';
