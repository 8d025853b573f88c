/**
 * Files the lab and the benchmarks run inside lab hosts, found from the repository root (the
 * same from the TypeScript sources and from dist/, which holds no .mjs peers).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('lab: repository root (package.json) not found');
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRoot();
/** The traffic peer (server and downloader), see its header. */
export const FLOW_PEER = join(REPO_ROOT, 'test', 'lab', 'peers', 'flow.mjs');
export const TOPOLOGY_DIR = join(REPO_ROOT, 'test', 'lab', 'topologies');
