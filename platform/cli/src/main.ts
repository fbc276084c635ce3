import { Command, CommanderError, Option } from 'commander';
import { ApiError, EXIT, PlatformClient, UnreachableError, UsageError } from './client';
import { contextOf, type Context, type Io } from './context';
import { apply } from './commands/apply';
import { createDataset } from './commands/datasets';
import { ingest } from './commands/ingest';
import { labels } from './commands/labels';
import { deploy, promote, rollback } from './commands/lifecycle';
import { loops } from './commands/loops';
import { models } from './commands/models';
import { predict } from './commands/predict';
import { status } from './commands/status';
import { train } from './commands/train';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

interface Common {
  url?: string;
  token?: string;
  json?: boolean;
  output?: string;
}

/**
 * `mlops`: the platform's lifecycle over HTTP, through the front door (embedded `npm start --
 * --serve` or the distributed nginx: the same paths). Returns the exit code: 0 ok, 1 a request
 * failed, 2 a usage error.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('mlops')
    .description('the mlops platform from the command line, through its front door')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(mlops --help lists the commands)');

  /** A subcommand with the connection options and (unless it takes --json itself) --json. */
  const command = (spec: string, description: string, jsonOutput = true) => {
    const cmd = program
      .command(spec)
      .description(description)
      .exitOverride()
      .addOption(new Option('--url <url>', `the front door (env MLOPS_URL, default ${DEFAULT_URL})`))
      .addOption(new Option('--token <token>', "bearer token (env API_TOKEN, the services' API_TOKEN)"));
    return jsonOutput ? cmd.option('--json', 'print JSON for scripts') : cmd;
  };
  /** Runs a command's handler with its context; the last argument commander passes is the command. */
  const act =
    (handler: (ctx: Context, ...args: never[]) => Promise<number>) =>
    async (...args: unknown[]) => {
      const cmd = args.at(-1) as Command;
      const options = cmd.opts<Common>();
      const url = options.url ?? io.env.MLOPS_URL ?? DEFAULT_URL;
      if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--url / MLOPS_URL: expected an http(s) URL such as ${DEFAULT_URL}, got "${url}"`);
      const client = new PlatformClient({ url, token: options.token ?? (io.env.API_TOKEN || undefined) });
      const ctx = contextOf(client, io, options.json === true);
      code = await (handler as (ctx: Context, ...rest: unknown[]) => Promise<number>)(ctx, ...args.slice(0, -1));
    };

  command('status', "every service's /health/ready through the front door (exit 1 unless all are ready)").action(act(status));
  command('apply', 'create or update a project: data contracts, feature views, models (idempotent)')
    .requiredOption('-f, --file <dir|file>', 'a project YAML file, or a directory of them')
    .action(act((ctx, options: { file: string }) => apply(ctx, options)));
  command('ingest <file>', 'send a .csv, .jsonl, .json or .parquet file of records to a source, in batches')
    .requiredOption('--source <source>', 'the ingestion source (its data contract validates every record)')
    .option('--batch-size <n>', 'records per request', '500')
    .option('--no-wait', 'return once ingestion accepted the records, without waiting for the feature store to apply them')
    .action(act(ingest));
  const datasets = program.command('datasets').description('dataset snapshots of a feature view');
  datasets
    .command('create')
    .description('materialize a dataset of a feature view (trains only with --train --model)')
    .exitOverride()
    .requiredOption('--view <name>', 'the feature view')
    .option('--train', 'train a model on it')
    .option('--model <name>', 'the model it is for (required with --train)')
    .option('--from <time>', 'history from (ISO-8601 or epoch ms)')
    .option('--to <time>', 'history to (ISO-8601 or epoch ms)')
    .option('--url <url>', `the front door (env MLOPS_URL, default ${DEFAULT_URL})`)
    .option('--token <token>', 'bearer token (env API_TOKEN)')
    .option('--json', 'print JSON for scripts')
    .action(act(createDataset));
  command('train <model>', 'a training job: on --dataset, or on a dataset materialized now from --view or the project (-f)')
    .option('-f, --file <dir|file>', 'the project defining the model (feature view, target, params)')
    .option('--view <name>', 'materialize this feature view and train on it')
    .option('--dataset <uri>', 'train on this materialized dataset')
    .option('--target <column>', 'the label column')
    .option('--params <json>', 'training parameters (JSON), over the project\'s')
    .option('--no-wait', 'return once the job is queued')
    .option('--timeout <seconds>', 'how long to wait for the job', '600')
    .action(act(train));
  command('models [name]', 'the models (champion, versions, serving), or one model\'s versions').action(act(models));
  command('deploy <model> <version>', 'serve a version: all traffic, or by a release strategy (canary, shadow, blue-green, A/B)')
    .option('--canary <share>', 'canary share of traffic, e.g. 0.1')
    .option('--shadow', 'a copy of the traffic, its answers logged and never returned, then promoted or dropped')
    .option('--blue-green', 'all traffic at once once warm, the old version kept warm for an instant rollback')
    .option('--ab <share>', 'A/B test: a fixed share of traffic until --labels labels a side, then a significance test decides')
    .option('--labels <n>', 'with --ab: labels per side before the test (default: monitoring\'s MONITORING_AB_LABELS)')
    .option('--no-wait', 'return once the deployment is requested (default: wait until serving has loaded it)')
    .option('--timeout <seconds>', 'how long to wait for serving', '120')
    .action(act(deploy));
  command('promote <model> <version>', 'make a served version the champion (all traffic)')
    .option('--reason <text>', 'why (kept in the promotion history)')
    .action(act(promote));
  command('rollback <model>', 'restore the champion before the latest promotion')
    .option('--reason <text>', 'why', 'rolled back with mlops rollback')
    .action(act(rollback));
  command('loops', 'the closed loops (drift -> retrain -> canary -> promotion)')
    .option('--model <name>', 'only this model')
    .option('--watch', 'follow the newest loop (or wait for one) until it closes')
    .option('--next', 'with --watch: wait for a loop that opens from now on')
    .option('--until <stage>', 'with --watch: stop once this stage (event type) is recorded')
    .option('--timeout <seconds>', 'with --watch: give up after this long', '600')
    .option('--interval <seconds>', 'with --watch: poll interval', '1')
    .action(act(loops));
  command('labels <file>', 'send true labels of earlier predictions (.csv/.jsonl: predictionId,label or an id joined with --predictions)')
    .option('--predictions <file>', 'the file `mlops predict --id <col> --out` wrote')
    .option('--id <column>', 'the id column joined with --predictions (default: its first column)')
    .option('--label-column <column>', 'the label column', 'label')
    .option('--batch-size <n>', 'labels per request', '500')
    .action(act(labels));
  command('predict <model>', 'predictions from the served model (KServe v2 REST)', false)
    .option('--json <rows>', 'the rows: a JSON array of arrays (input order) or objects (feature names)')
    .option('--file <file>', 'the rows from a .csv/.jsonl/.json file (columns named as the features)')
    .option('--id <column>', 'an id column of the rows, kept beside each prediction (for mlops labels)')
    .option('--out <file>', 'write the predictions as CSV (id, prediction_id, model_version, prediction)')
    .option('--version <n>', 'ask this version (default: the routing: champion, or a canary share)')
    .option('--batch-size <n>', 'rows per request (1: each row is routed on its own, sticky by --id)', '1')
    .option('--concurrency <n>', 'requests in flight', '8')
    .addOption(new Option('--output <format>', 'json: print JSON for scripts').choices(['text', 'json']))
    .action(act(predict));

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT.ok;
      // commander printed the message (and the hint) already
      return EXIT.usage;
    }
    if (error instanceof UsageError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof ApiError || error instanceof UnreachableError) {
      io.stderr.write(`error: ${error.message}\n`);
      return EXIT.failed;
    }
    io.stderr.write(`error: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.failed;
  }
}
