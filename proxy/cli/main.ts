#!/usr/bin/env node
/**
 * `mptcp-proxy` command-line entry: parses the subcommand and hands over to its module.
 * Each subcommand lives in its own file under commands/ and returns an exit code; this
 * file owns only dispatch, --help and --version, and turns an unexpected exception into a
 * one-line message and exit code 1 (never a stack trace for a user error).
 */
import { readFileSync } from 'node:fs';
import { runAggregator } from './commands/aggregator.js';
import { runCat } from './commands/cat.js';
import { runCheckConfig } from './commands/check-config.js';
import { runClient } from './commands/client.js';
import { runDecode } from './commands/decode.js';
import { runDemo } from './commands/demo.js';

interface Command {
  summary: string;
  run: (args: string[]) => Promise<number> | number;
}

const commands: Record<string, Command> = {
  aggregator: { summary: 'the aggregator: accepts multipath streams from clients and connects out', run: runAggregator },
  cat: { summary: 'netcat over our userspace TCP on raw sockets (root)', run: runCat },
  'check-config': { summary: 'validate a client or aggregator configuration file (every problem with line and column)', run: runCheckConfig },
  client: { summary: 'the local SOCKS5/HTTP proxy that sends everything through the aggregator', run: runClient },
  decode: { summary: 'decode a pcap/pcapng file: TCP headers and every MPTCP option', run: runDecode },
  demo: { summary: "the built-in demo (what `npm start` runs): client and aggregator over two paths in namespaces (root)", run: runDemo },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'Usage: mptcp-proxy <command> [options]',
    '',
    'A multipath SOCKS5/HTTP proxy on a userspace Multipath TCP (RFC 8684) stack.',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `mptcp-proxy <command> --help` for the options of a command.',
    'Options: --help, --version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`mptcp-proxy: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mptcp-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
