/**
 * The sensor-fleet simulator as a module: tests and benchmarks preload queues with it, verify
 * reads its manifests. The CLI is {@link ./cli.ts} (`deno task fleet`).
 *
 * ```ts
 * import { createFleet, generateMessages, sendMessages } from "./mod.ts";
 *
 * const fleet = createFleet({ seed: 7 });
 * const messages = [...generateMessages(fleet, 100)];
 * // await sendMessages(sqs, queueUrl, messages, { concurrency: 4 });
 * ```
 *
 * @module
 */
export { randomSeed, SeededRandom } from "../../common/seeded_random.ts";
export {
  ADVERSARIAL_KINDS,
  FAITHFUL_FAULTS,
  MESSAGE_KINDS,
  type MessageKind,
  type Mutation,
} from "./message_kinds.ts";
export {
  createManifestWriter,
  type FleetMessage,
  type ManifestEntry,
  ManifestEntrySchema,
  type ManifestWriter,
  type ManifestWriterOptions,
  parseManifest,
} from "./manifest.ts";
export {
  createFleet,
  type Device,
  type Fleet,
  type FleetOptions,
  generateMessage,
  generateMessages,
  naiveLocalTime,
  nextRound,
  nextSubmission,
} from "./generate.ts";
export { MAX_BATCH_BYTES, sendMessages, type SendMessagesOptions, type SendStats } from "./send.ts";
export { type FleetRunStats, runFleet, type RunFleetOptions } from "./run.ts";
