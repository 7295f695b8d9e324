#!/usr/bin/env node
import 'reflect-metadata';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { loadDatabaseUrl, loadSecrets } from '../config';
import { DatabaseUrlError, redactUrl } from '../db/data-source-options';
import type { Database } from '../db/database';
import { openDatabase } from '../open-database';
import { DomainError } from '../domain/domain-error';
import type { ApiKey } from '../domain/workspace/api-key.entity';
import { ApiKeyScope } from '../domain/workspace/api-key-scope.enum';
import { WorkspaceService } from '../domain/workspace/workspace.service';
import { ProviderConfigService, type ResealReport } from '../domain/provider/provider-config.service';
import { ProviderRegistry } from '../domain/provider/provider-registry';
import { SecretBox } from '../domain/provider/secret-box';
import { installedProviders } from '../plugins/providers';
import { registerConfigCommand } from './config-command';

/**
 * `pigeon` — manages workspaces and API keys (README.md, "Workspaces and keys"), on the database of `DATABASE_URL`, like
 * the server (pending migrations are applied first). Secrets are printed once and stored only as hashes.
 *
 * @example
 * ```sh
 * pigeon workspace create acme --json       # {"workspace":"acme","adminKey":"pgn_a_…","ingestKey":"pgn_i_…"}
 * pigeon keys create --workspace acme --scope ingest
 * pigeon keys list --workspace acme
 * pigeon keys revoke pgn_i_AbCdEf
 * PIGEON_SECRET=new PIGEON_SECRET_PREVIOUS=old pigeon secrets rotate
 * ```
 */

/** A failure the user can act on: printed as `pigeon: <message>`, exit code 1. */
class CliError extends Error {}

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function parseScope(value: string): ApiKeyScope {
  switch (value.trim().toLowerCase()) {
    case 'admin':
      return ApiKeyScope.ADMIN;
    case 'ingest':
      return ApiKeyScope.INGEST;
    default:
      throw new InvalidArgumentError('the scope must be admin or ingest.');
  }
}

function time(date: Date | null): string {
  return date ? date.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-';
}

/** Left-aligned columns, two spaces apart. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function keyJson(key: ApiKey) {
  return {
    id: key.id,
    prefix: key.prefix,
    scope: key.scope.toLowerCase(),
    name: key.name,
    createdAt: key.createdAt.toISOString(),
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

/** Opens the database (applying migrations), runs `work`, and always closes it again. */
async function withWorkspaces<T>(work: (workspaces: WorkspaceService) => Promise<T>): Promise<T> {
  return withDatabase((db) => work(new WorkspaceService(db)));
}

/**
 * `secrets rotate`: seals every provider secret again with PIGEON_SECRET, opening the old ones with
 * PIGEON_SECRET or PIGEON_SECRET_PREVIOUS.
 */
async function rotateSecrets(): Promise<ResealReport> {
  const { secret, secretPrevious } = loadSecrets();
  if (!secret) {
    throw new CliError(
      'PIGEON_SECRET is not set: set it to the new secret (and PIGEON_SECRET_PREVIOUS to the one it replaces)',
    );
  }
  const box = new SecretBox(secret, secretPrevious ? [secretPrevious] : []);
  return withDatabase((db) =>
    new ProviderConfigService(db, new ProviderRegistry(installedProviders()), box).resealAll(),
  );
}

/** Opens the database (applying migrations), runs `work`, and always closes it again. */
async function withDatabase<T>(work: (db: Database) => Promise<T>): Promise<T> {
  const url = loadDatabaseUrl();
  let db: Database;
  try {
    db = await openDatabase(url);
  } catch (err) {
    if (err instanceof DatabaseUrlError) throw new CliError(err.message);
    throw new CliError(`cannot open the database ${redactUrl(url)}: ${(err as Error).message}`);
  }
  try {
    return await work(db);
  } finally {
    await db.dataSource.destroy().catch(() => undefined);
  }
}

function buildProgram(io: CliIo): Command {
  const program = new Command('pigeon')
    .description('Manage Pigeon workspaces, API keys and secrets (uses DATABASE_URL, like the server)')
    .showHelpAfterError('(run with --help for usage)')
    // commander's own errors (bad option value, missing option, unknown command) in the `pigeon: …` form too;
    // subcommands inherit this output configuration
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      outputError: (text, write) => write(text.replace(/^error: /, 'pigeon: ')),
    })
    .exitOverride();

  const workspace = program.command('workspace').description('workspaces').exitOverride();
  workspace
    .command('create')
    .description('create a workspace and print its first admin and ingest keys, once')
    .argument('<name>', 'workspace name: letters, digits, "_", "." or "-"')
    .option('--json', 'print one JSON line: {"workspace","adminKey","ingestKey"}')
    .exitOverride()
    .action(async (name: string, options: { json?: boolean }) => {
      const created = await withWorkspaces((w) => w.createWorkspace(name));
      if (options.json) {
        io.out(
          JSON.stringify({
            workspace: created.workspace.name,
            adminKey: created.admin.secret,
            ingestKey: created.ingest.secret,
          }) + '\n',
        );
      } else {
        io.out(
          `Created workspace "${created.workspace.name}". Its keys are shown only this once; store them now:\n` +
            `  admin  key: ${created.admin.secret}\n` +
            `  ingest key: ${created.ingest.secret}\n`,
        );
      }
    });
  workspace
    .command('list')
    .description('list the workspaces')
    .option('--json', 'print JSON')
    .exitOverride()
    .action(async (options: { json?: boolean }) => {
      const all = await withWorkspaces((w) => w.listWorkspaces());
      if (options.json) {
        io.out(JSON.stringify(all.map((w) => ({ ...w, createdAt: w.createdAt.toISOString() }))) + '\n');
      } else {
        io.out(
          table(
            ['NAME', 'ACTIVE KEYS', 'CREATED'],
            all.map((w) => [w.name, String(w.activeKeys), time(w.createdAt)]),
          ),
        );
      }
    });

  const keys = program.command('keys').description('API keys').exitOverride();
  keys
    .command('create')
    .description('create a key and print its secret, once')
    .requiredOption('--workspace <name>', 'the workspace')
    .requiredOption('--scope <admin|ingest>', 'admin (GraphQL and ingest) or ingest (events only)', parseScope)
    .option('--name <name>', 'a label shown in listings')
    .option('--json', 'print one JSON line with the key')
    .exitOverride()
    .action(async (options: { workspace: string; scope: ApiKeyScope; name?: string; json?: boolean }) => {
      const created = await withWorkspaces((w) => w.createKeyIn(options.workspace, options.scope, options.name));
      const { apiKey, secret } = created;
      if (options.json) {
        io.out(JSON.stringify({ workspace: options.workspace, ...keyJson(apiKey), key: secret }) + '\n');
      } else {
        io.out(
          `Created an ${apiKey.scope.toLowerCase()} key in workspace "${options.workspace}" ` +
            `(id ${apiKey.id}, prefix ${apiKey.prefix}). It is shown only this once; store it now:\n` +
            `  ${secret}\n`,
        );
      }
    });
  keys
    .command('revoke')
    .description('revoke a key at once, by its id or prefix (as `keys list` shows them)')
    .argument('<key>', 'key id or prefix')
    .option('--workspace <name>', 'only look in this workspace')
    .option('--json', 'print the revoked key as JSON')
    .exitOverride()
    .action(async (idOrPrefix: string, options: { workspace?: string; json?: boolean }) => {
      const result = await withWorkspaces((w) => w.revokeByIdOrPrefix(idOrPrefix, options.workspace));
      const { apiKey } = result;
      if (options.json) {
        io.out(
          JSON.stringify({ workspace: result.workspace, ...keyJson(apiKey), alreadyRevoked: result.alreadyRevoked }) +
            '\n',
        );
      } else {
        io.out(
          `${result.alreadyRevoked ? 'Already revoked' : 'Revoked'}: ${apiKey.scope.toLowerCase()} key ${apiKey.prefix} ` +
            `(id ${apiKey.id}) of workspace "${result.workspace}", at ${time(apiKey.revokedAt)}\n`,
        );
      }
    });
  keys
    .command('list')
    .description('list the keys of a workspace (never their secrets)')
    .requiredOption('--workspace <name>', 'the workspace')
    .option('--json', 'print JSON')
    .exitOverride()
    .action(async (options: { workspace: string; json?: boolean }) => {
      const list = await withWorkspaces((w) => w.listKeysOf(options.workspace));
      if (options.json) {
        io.out(JSON.stringify(list.map(keyJson)) + '\n');
      } else {
        io.out(
          table(
            ['ID', 'PREFIX', 'SCOPE', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'],
            list.map((k) => [
              k.id,
              k.prefix,
              k.scope.toLowerCase(),
              k.name ?? '-',
              time(k.createdAt),
              time(k.lastUsedAt),
              time(k.revokedAt),
            ]),
          ),
        );
      }
    });

  const secrets = program.command('secrets').description('provider secrets encrypted at rest').exitOverride();
  secrets
    .command('rotate')
    .description(
      'encrypt every provider secret again with PIGEON_SECRET, reading the old ones with PIGEON_SECRET_PREVIOUS',
    )
    .option('--json', 'print one JSON line: {"resealed","current","unreadable"}')
    .exitOverride()
    .action(async (options: { json?: boolean }) => {
      const report = await rotateSecrets();
      if (options.json) io.out(JSON.stringify(report) + '\n');
      else {
        io.out(
          `Re-encrypted the secrets of ${report.resealed} provider configuration(s) with PIGEON_SECRET; ` +
            `${report.current} already were.\n`,
        );
      }
      if (report.unreadable.length) {
        const list = report.unreadable.map((u) => `${u.id} (workspace ${u.workspaceId}, ${u.provider})`).join(', ');
        throw new CliError(
          `${report.unreadable.length} provider configuration(s) cannot be decrypted with PIGEON_SECRET or ` +
            `PIGEON_SECRET_PREVIOUS: ${list}; give their secrets again with configureProvider`,
        );
      }
    });
  registerConfigCommand(program, io, withDatabase);
  return program;
}

/** Runs the CLI on `argv` (without `node` and the script); resolves with the exit code. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander printed the message (0 for --help)
    if (err instanceof CliError || err instanceof DomainError) {
      io.err(`pigeon: ${err.message}\n`);
      return 1;
    }
    io.err(`pigeon: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
