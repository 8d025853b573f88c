/** The configuration loaders' problems as `LINE:COL path: message` lines, for tests. */
import { ConfigError } from '../../proxy/config/reader.js';

/** Each problem `f` reports (in position order), [] when it accepts its input. */
export function configProblems(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}
