/**
 * `deno task demo [submissions] [options]`: the submissions pipeline's demo (see run.ts).
 *
 * ```sh
 * deno task demo                                         # until Ctrl-C
 * KINESIS_ERROR_PROBABILITY=0.1 deno task demo --seconds 20
 * deno task demo --rate 20 --invalid-ratio 0.2 --seconds 30
 * ```
 *
 * The task's permissions: `--allow-net=127.0.0.1,0.0.0.0` (the stack, the service's /metrics),
 * `--allow-env` (the AWS SDK), `--allow-sys` (as `deno task stack`), `--allow-run=deno` (the
 * service) and `--allow-write` (the log file in the OS temp dir, whose path differs per OS).
 *
 * @module
 */
import { errorMessage } from "../../../src/app/error_message.ts";
import { DemoUsageError, parseDemoArgs, USAGE } from "./options.ts";
import { runDemo } from "./run.ts";

/** Runs the demo with `args`; resolves with the exit code (2: a usage error). */
export async function main(args: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseDemoArgs(args);
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error;
    console.error(`demo: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === undefined) {
    console.log(USAGE);
    return 0;
  }
  try {
    return await runDemo(options);
  } catch (error) {
    console.error(`\ndemo: ${errorMessage(error)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
