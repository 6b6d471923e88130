// ES module entry: the same objects as the CommonJS entry (one instance, no dual-package
// hazard), re-exported by name.
export * from '../dist/index.js';
