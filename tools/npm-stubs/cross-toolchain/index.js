throw new Error('@napi-rs/cross-toolchain is stubbed in uring-aio (tools/npm-stubs): cross and wasm builds run in the release workflow, not locally');
