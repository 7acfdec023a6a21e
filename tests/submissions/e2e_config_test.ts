/**
 * End to end, the receive settings reach the wire: with `COMPONENTS=submissions`, `SQS_MAX_MESSAGES=3`,
 * `SQS_VISIBILITY_TIMEOUT=7` and `SQS_WAIT_TIME_SECONDS=2` in the environment of the service
 * subprocess, every `ReceiveMessage` the emulator sees carries exactly those values.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertReconciled, printSummary } from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";

Deno.test("SQS_MAX_MESSAGES=3, SQS_VISIBILITY_TIMEOUT=7, SQS_WAIT_TIME_SECONDS=2: every ReceiveMessage carries them", async () => {
  await using run = await startScenario({
    load: { seed: 601, count: 2_000 },
    env: {
      // Named explicitly here; every other scenario runs with COMPONENTS unset (the default).
      COMPONENTS: "submissions",
      SQS_MAX_MESSAGES: "3",
      SQS_VISIBILITY_TIMEOUT: "7",
      SQS_WAIT_TIME_SECONDS: "2",
    },
  });
  const { e2e, load } = run;
  const { metrics } = await run.drain();
  // Only the service received from this stack's queues.
  const seen = e2e.stack.faults.stats().sqs.receiveMessage;
  const { report } = await run.verify();

  assert.equal(seen.length, 1, `parameter combinations seen: ${JSON.stringify(seen)}`);
  const [params] = seen;
  assert.deepEqual(
    { ...params, count: undefined },
    { MaxNumberOfMessages: 3, VisibilityTimeout: 7, WaitTimeSeconds: 2, count: undefined },
  );
  // At most 3 per receive: 2 000 messages took at least 667 receives.
  assert.ok(params!.count >= Math.ceil(load.messages.length / 3));
  assertReconciled(report);
  assert.equal(metrics.value("edr_submissions_messages_received_total"), load.messages.length);

  printSummary("config (max 3, visibility 7 s, wait 2 s)", {
    seed: load.seed,
    submissions: load.messages.length,
    invalid: load.invalid,
    events: report.expectedEvents,
    receive_calls: params!.count,
    duplicates: report.duplicates,
    seconds: run.seconds(),
  });
});
