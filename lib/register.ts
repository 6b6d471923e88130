// uring-aio/fs/register: routes node:fs/promises to uring-aio/fs for every module of
// the process (this thread), opt-in: `node --import uring-aio/fs/register app.js`
// (ES modules) or `node --require uring-aio/fs/register app.js` (CommonJS).
//
// How: Node has one fs/promises object per thread, the one `require('fs/promises')`,
// `require('fs').promises` and `import ... from 'node:fs/promises'` all give. This module
// replaces its functions that uring-aio/fs implements on io_uring (open, readFile,
// stat, ...) with uring-aio/fs's, and syncs the builtin ES module's named exports
// (module.syncBuiltinESMExports), so already-linked `import { readFile }` bindings
// follow. The rest stays Node's own. Where uring-aio/fs falls back to node:fs/promises
// (no io_uring here, or URING_AIO_FS_BACKEND=node:fs) nothing is replaced: `active` is
// false and `backendReason` says why.
//
// uring-aio's own modules keep the original functions: when they call node:fs/promises
// (the fallback paths), they get a copy taken before the replacement, so a routed call
// never comes back to itself.
import * as nodeModule from 'node:module';
import * as path from 'node:path';
import type { Backend } from './fs';

interface ModuleLoader {
  _load(request: string, parent: { filename?: string | null } | null | undefined, isMain: boolean): unknown;
}

/** Node's fs/promises object: the one every module of this thread shares. */
const shared: Record<string, unknown> = require('node:fs/promises');
/** Its functions as Node made them, for uring-aio's own modules. */
const original: Readonly<Record<string, unknown>> = { ...shared };

/** This package's compiled modules (dist/), the only ones that see `original`. */
const ownDir = __dirname + path.sep;

/** Why routing could not start, or undefined. */
function refusal(): string | undefined {
  if (Object.keys(require.cache).some((file) => file.startsWith(ownDir) && file.endsWith(`${path.sep}fs.js`))) {
    return 'uring-aio/fs was loaded before uring-aio/fs/register: load the register module first (node --import or --require)';
  }
  return undefined;
}

const refused = refusal();

if (refused === undefined) {
  // Module._load is how every require() of a CommonJS module resolves a request (the
  // hook APM tools use too); only requests from this package's own files are answered here.
  const loader = nodeModule.Module as unknown as ModuleLoader;
  const load = loader._load;
  loader._load = function loadOriginalForOwnModules(request, parent, isMain) {
    if ((request === 'node:fs/promises' || request === 'fs/promises') && parent?.filename?.startsWith(ownDir) === true) return original;
    return load.call(this, request, parent, isMain);
  };
}

const uringFs: typeof import('./fs') = require('./fs');

/** The names routed to uring-aio/fs (empty when not active). */
export const routed: readonly string[] = refused !== undefined || uringFs.backend !== 'io_uring'
  ? []
  : Object.keys(shared).filter((name) => {
    const mine = (uringFs as unknown as Record<string, unknown>)[name];
    return typeof mine === 'function' && typeof shared[name] === 'function' && mine !== shared[name];
  });

for (const name of routed) shared[name] = (uringFs as unknown as Record<string, unknown>)[name];
if (routed.length > 0) nodeModule.syncBuiltinESMExports();

/** Whether node:fs/promises calls go to uring-aio/fs in this thread. */
export const active: boolean = routed.length > 0;
/** uring-aio/fs's backend: 'io_uring', or 'node:fs' when it falls back. */
export const backend: Backend = uringFs.backend;
/** Why routing is or is not active. */
export const backendReason: string = refused ?? (active
  ? `node:fs/promises routed to uring-aio/fs (${routed.join(', ')}): ${uringFs.backendReason}`
  : `node:fs/promises left as it is: ${uringFs.backendReason}`);
