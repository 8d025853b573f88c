/**
 * Running a command to completion for the e2e tests: exit code (-1 when killed or not
 * started), stdout as bytes (downloads are checked byte for byte), stderr as text. Never
 * rejects: the test asserts on the code.
 */
import { execFile } from 'node:child_process';
import { CLI_ENV } from './userspace-proxy.js';

export interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

const MiB = 1024 * 1024;

/** With the CLI's environment (the raw-socket addon), stdout up to 256 MiB. */
export function run(cmd: string, args: string[], timeoutS = 90): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'buffer', maxBuffer: 256 * MiB, timeout: timeoutS * 1000, env: { ...process.env, ...CLI_ENV } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}
