import { createClient, type ChronicleClient } from '@chronicle/sdk';
import type { Command } from 'commander';
import { toJson, type Io } from './output.js';

export interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

export interface CommandContext {
  client: ChronicleClient;
  json: boolean;
  io: Io;
  /** Prints `value` as JSON under `--json`, else the text `render` makes. */
  emit(value: unknown, render: () => string): void;
}

/** Builds what a client command needs from the global options (`--url`, `--token`, `--json`). */
export function contextOf(cmd: Command, io: Io): CommandContext {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  // Few, short retries: a person is waiting, and a refused connection rarely heals in seconds.
  const client = createClient({ url: g.url, ...(g.token ? { token: g.token } : {}), retry: { attempts: 3, baseDelayMs: 200 } });
  const json = Boolean(g.json);
  return {
    client,
    json,
    io,
    emit: (value, render) => io.out(json ? `${toJson(value)}\n` : render()),
  };
}

/** An error the CLI itself detects (bad file content, unknown name); printed like an API error. */
export class CliError extends Error {
  readonly code: string;
  constructor(message: string, code = 'BAD_USER_INPUT') {
    super(message);
    this.name = 'CliError';
    this.code = code;
  }
}
