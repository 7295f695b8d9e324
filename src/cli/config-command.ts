import fs from 'node:fs';
import type { Command } from 'commander';
import type { Database } from '../db/database';
import {
  exportConfig,
  importConfig,
  type ConfigServices,
  type ImportResult,
} from '../domain/config-transfer/config-transfer';
import { ConfigFileError, formatConfigFile, parseConfigFile } from '../domain/config-transfer/config-file';
import { GroupService } from '../domain/group/group.service';
import { MappingService } from '../domain/mapping/mapping.service';
import { ProfileService } from '../domain/profile/profile.service';
import type { RequestContext } from '../domain/request-context';
import { RoutingRuleService } from '../domain/routing/routing-rule.service';
import { TemplateService } from '../domain/template/template.service';
import { WorkflowService } from '../domain/workflow/workflow.service';
import { WorkspaceService } from '../domain/workspace/workspace.service';

/**
 * `pigeon config export` / `pigeon config import` (README.md, "Configuration as code"): a workspace's
 * templates, workflows, mappings and routing rules as one JSON file, kept in Git and imported by key.
 *
 * @example
 * ```sh
 * pigeon config export --workspace staging > pigeon.json
 * pigeon config import pigeon.json --workspace production --dry-run
 * pigeon config import pigeon.json --workspace production
 * ```
 */

/** Where the command writes: stdout and stderr in a real run, buffers in tests. */
export interface ConfigCommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Opens the database, runs `work`, closes it (the CLI's own `withDatabase`). */
export type WithDatabase = <T>(work: (db: Database) => Promise<T>) => Promise<T>;

/** The services an import or export uses, built on `db` (a transaction-bound one during an import). */
export function configServices(db: Database): ConfigServices {
  const profiles = new ProfileService(db, new GroupService(db));
  return {
    templates: new TemplateService(db, profiles),
    workflows: new WorkflowService(db),
    mappings: new MappingService(db),
    rules: new RoutingRuleService(db),
  };
}

async function contextOf(db: Database, workspace: string): Promise<RequestContext> {
  return { workspaceId: (await new WorkspaceService(db).requireWorkspace(workspace)).id };
}

function readFile(path: string): string {
  try {
    return path === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigFileError(path, [(err as Error).message], 'cannot be read');
  }
}

function report(io: ConfigCommandIo, result: ImportResult, workspace: string, dryRun: boolean): void {
  for (const warning of result.warnings) io.err(`pigeon: warning: ${warning}\n`);
  for (const change of result.changes) io.out(`${change.line}\n`);
  const n = result.changes.length;
  const changes = `${n} change${n === 1 ? '' : 's'}`;
  if (dryRun) io.out(`Dry run: ${changes} would be made to workspace "${workspace}"; nothing was changed.\n`);
  else if (n === 0) io.out(`0 changes: workspace "${workspace}" already matches the file.\n`);
  else io.out(`Imported ${changes} into workspace "${workspace}".\n`);
}

/** Adds `config export` and `config import` to the `pigeon` program. */
export function registerConfigCommand(program: Command, io: ConfigCommandIo, withDatabase: WithDatabase): void {
  const config = program
    .command('config')
    .description('configuration as code: export and import templates, workflows, mappings and rules')
    .exitOverride();
  config
    .command('export')
    .description("print the workspace's configuration as JSON (no ids: it imports into any workspace)")
    .option('--workspace <name>', 'the workspace', 'default')
    .exitOverride()
    .action(async (options: { workspace: string }) => {
      const file = await withDatabase(async (db) =>
        exportConfig(configServices(db), await contextOf(db, options.workspace)),
      );
      io.out(formatConfigFile(file));
    });
  config
    .command('import')
    .description('apply a configuration file to a workspace, by key; prints one line per change')
    .argument('<file>', 'the JSON file (`-` reads stdin)')
    .option('--workspace <name>', 'the workspace', 'default')
    .option('--dry-run', 'print the changes, change nothing')
    .option('--prune', 'also delete mappings, cancel mappings and rules the file does not list')
    .exitOverride()
    .action(async (path: string, options: { workspace: string; dryRun?: boolean; prune?: boolean }) => {
      // the whole file is checked before the database is opened: a bad file changes nothing
      const file = parseConfigFile(readFile(path), path === '-' ? 'stdin' : path);
      const result = await withDatabase(async (db) =>
        importConfig(db, configServices, await contextOf(db, options.workspace), file, {
          dryRun: options.dryRun,
          prune: options.prune,
          source: path === '-' ? 'stdin' : path,
        }),
      );
      report(io, result, options.workspace, Boolean(options.dryRun));
    });
}
