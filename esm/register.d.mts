export * from '../dist/register.js';
