// The AF_PACKET addon's loader never throws: it returns the addon, or why it cannot be used.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPacketBindingUnavailable, probePacketBinding } from './packet-binding.js';

describe('packet binding loader', () => {
  it('says why when the addon was not built, with build.sh reason when there is one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'packet-binding-'));
    try {
      const none = probePacketBinding([dir], '');
      expect(isPacketBindingUnavailable(none) && none.reason).toMatch(/does not exist.*npm run build:native/);
      mkdirSync(join(dir, 'build'));
      writeFileSync(join(dir, 'build', 'not-built.txt'), 'build tools missing: g++\n');
      const noted = probePacketBinding([dir], '');
      expect(isPacketBindingUnavailable(noted) && noted.reason).toMatch(/^build tools missing: g\+\+/);
      const bogus = join(dir, 'bogus.node');
      writeFileSync(bogus, 'not a shared object');
      const broken = probePacketBinding([dir], bogus);
      expect(isPacketBindingUnavailable(broken) && broken.reason).toMatch(/failed to load/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
