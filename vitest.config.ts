import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    // One file at a time on any machine: the privileged files measure throughput and byte
    // splits on emulated links, and a neighbour file's load would change what they measure.
    // (On a 2-core machine vitest's default is one worker anyway.)
    fileParallelism: false,
  },
});
