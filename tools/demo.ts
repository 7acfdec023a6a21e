/**
 * `deno task demo [component] [options]`: one command that shows a component at work with
 * nothing but Deno. The component defaults to `submissions` (the pipeline: local SQS and
 * Kinesis, the service, a sensor fleet, a tail of the stream, and the reconciliation); its
 * options follow it (`deno task demo submissions --help`).
 *
 * ```sh
 * deno task demo                       # the submissions pipeline, until Ctrl-C
 * deno task demo submissions --seconds 20
 * deno task demo tls-scan              # the TLS scanner: a fleet of test servers, both engines
 * deno task demo ip-events             # the IP-event collector at 33 000 datagrams/s
 * ```
 *
 * @module
 */
import { main as ipEvents } from "./ip_events/demo.ts";
import { main as submissions } from "./submissions/demo/cli.ts";
import { main as tlsScan } from "./tls_scan/demo.ts";
import { exitWhenOrphaned } from "./common/parent_death.ts";

/** Each component's demo: its CLI, given the arguments after the component's name. */
const DEMOS: Readonly<Record<string, (args: readonly string[]) => Promise<number>>> = {
  submissions,
  "tls-scan": tlsScan,
  "ip-events": ipEvents,
};

/** Splits `[component] [options]`; `undefined` component: an unknown name (usage error). */
export function chooseDemo(args: readonly string[]): { component: string; rest: string[] } {
  const [first, ...rest] = args;
  if (first === undefined || first.startsWith("-")) {
    return { component: "submissions", rest: [...args] };
  }
  return { component: first, rest };
}

if (import.meta.main) {
  // Run through `deno task`, whose death does not reach this process: watch for it, so the
  // services this demo started (which die with it) do not outlive a killed test run.
  exitWhenOrphaned();
  const { component, rest } = chooseDemo(Deno.args);
  const demo = DEMOS[component];
  if (demo === undefined) {
    console.error(
      `demo: unknown component "${component}" (known: ${Object.keys(DEMOS).join(", ")})`,
    );
    Deno.exit(2);
  }
  Deno.exit(await demo(rest));
}
