// The uring-aio/fs compatibility scenarios on the fallback backend
// (URING_AIO_FS_BACKEND=node:fs, set before the module loads): every call must still
// behave as node:fs/promises does.
import './fixtures/fs-backend-node.mjs';
import test from 'ava';
import * as uringFs from 'uring-aio/fs';
import { defineScenarios } from './fs-compat-scenarios.mjs';

test('fs-fallback: the backend is node:fs, and says why', (t) => {
  t.is(uringFs.backend, 'node:fs');
  t.regex(uringFs.backendReason, /URING_AIO_FS_BACKEND=node:fs/);
});

defineScenarios((title, run) => test(`fs-fallback: ${title}`, run), uringFs);
