throw new Error('@napi-rs/wasm-tools is stubbed in uring-aio (tools/npm-stubs): cross and wasm builds run in the release workflow, not locally');
