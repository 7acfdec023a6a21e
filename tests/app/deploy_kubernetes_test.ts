/**
 * deploy/kubernetes/ and deploy/iam/, checked without a cluster: every object validates against
 * the Kubernetes API schemas (npm:kubernetes-models, and its KEDA models, schemas bundled in the
 * packages: nothing is downloaded at run time); the objects refer to each other correctly; the
 * Deployment's environment is a configuration main.ts accepts; and the IAM policy grants exactly
 * the SQS and Kinesis actions the code calls. kubernetes-models' validators check types, required
 * fields, enums and formats but let unknown field names through (as the API's JSON schemas do), so
 * the objects are also type-checked as literals of the same package's TypeScript interfaces,
 * whose excess-property check rejects a misspelt field. No cluster runs here.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { loadConfig, settingNames } from "../../src/app/app_config.ts";
import { VERSION } from "../../src/app/version.ts";
import { COMPONENTS } from "../../src/components.ts";

const ROOT = new URL("../../", import.meta.url);
const DIR = new URL("deploy/kubernetes/", ROOT);

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "apps/v1 Deployment": Deployment,
  "v1 Service": Service,
  "v1 ServiceAccount": ServiceAccount,
  "policy/v1 PodDisruptionBudget": PodDisruptionBudget,
  "keda.sh/v1alpha1 ScaledObject": ScaledObject,
  "keda.sh/v1alpha1 TriggerAuthentication": TriggerAuthentication,
};

// deno-lint-ignore no-explicit-any
type Manifest = Record<string, any>;

const kustomization = parseAllDocuments(
  await Deno.readTextFile(new URL("kustomization.yaml", DIR)),
)[0]!.toJS() as { resources: string[] };
const objects: Manifest[] = [];
for (const file of kustomization.resources) {
  for (const document of parseAllDocuments(await Deno.readTextFile(new URL(file, DIR)))) {
    assert.deepEqual(document.errors, [], `${file}: ${document.errors}`);
    objects.push({ ...document.toJS(), file });
  }
}

function only(kind: string): Manifest {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!;
}

Deno.test("kubernetes: every file of the kustomization is listed, and every object validates", async () => {
  const files = [];
  for await (const entry of Deno.readDir(DIR)) {
    if (entry.name.endsWith(".yaml") && entry.name !== "kustomization.yaml") files.push(entry.name);
  }
  assert.deepEqual(files.sort(), [...kustomization.resources].sort());
  for (const { file, ...object } of objects) {
    const Model = MODELS[`${object.apiVersion} ${object.kind}`];
    assert.ok(Model, `${file}: no schema for ${object.apiVersion} ${object.kind}`);
    assert.doesNotThrow(() => new Model(object as never).validate(), `${file}: ${object.kind}`);
    assert.equal(object.metadata.namespace, "edr", `${file}: namespace`);
  }
  assert.deepEqual(objects.map((o) => o.kind).sort(), [
    "Deployment",
    "PodDisruptionBudget",
    "ScaledObject",
    "Service",
    "ServiceAccount",
    "TriggerAuthentication",
  ]);
});

/** The models' TypeScript interface of each kind, for `deno check`'s excess-property check. */
const TYPES: Record<string, [module: string, type: string]> = {
  "apps/v1 Deployment": ["kubernetes-models/apps/v1/Deployment", "IDeployment"],
  "v1 Service": ["kubernetes-models/v1/Service", "IService"],
  "v1 ServiceAccount": ["kubernetes-models/v1/ServiceAccount", "IServiceAccount"],
  "policy/v1 PodDisruptionBudget": [
    "kubernetes-models/policy/v1/PodDisruptionBudget",
    "IPodDisruptionBudget",
  ],
  "keda.sh/v1alpha1 ScaledObject": [
    "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject",
    "IScaledObject",
  ],
  "keda.sh/v1alpha1 TriggerAuthentication": [
    "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication",
    "ITriggerAuthentication",
  ],
};

/**
 * `deno check` of the objects as literals of the models' interfaces: TypeScript rejects a field
 * the API does not define (a misspelt `readinesProbe` say), which the JSON schemas let through.
 * Returns the checker's diagnostics, empty when every object is clean.
 */
async function typeCheck(manifests: readonly Manifest[]): Promise<string> {
  await Deno.mkdir(new URL(".tmp/", ROOT), { recursive: true });
  const dir = await Deno.makeTempDir({ dir: new URL(".tmp/", ROOT).pathname, prefix: "k8s-" });
  try {
    const lines = manifests.map(({ file: _, ...object }, i) => {
      const [module, type] = TYPES[`${object.apiVersion} ${object.kind}`]!;
      return `import type { ${type} as T${i} } from "${module}";\n` +
        `export const object${i}: T${i} = ${JSON.stringify(object, null, 2)};`;
    });
    await Deno.writeTextFile(`${dir}/manifests.ts`, lines.join("\n") + "\n");
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", new URL("deno.json", ROOT).pathname, "manifests.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return output.success ? "" : new TextDecoder().decode(output.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("kubernetes: no object has a field the API does not define (TypeScript's excess-property check)", async () => {
  assert.equal(await typeCheck(objects), "");
  const misspelt = structuredClone(only("Deployment"));
  const container = misspelt.spec.template.spec.containers[0];
  container.readinesProbe = container.readinessProbe;
  delete container.readinessProbe;
  assert.match(await typeCheck([misspelt]), /readinesProbe/);
});

Deno.test("kubernetes: the validator rejects a broken object (the check can fail)", () => {
  const broken = structuredClone(only("Deployment"));
  broken.spec.template.spec.containers[0].ports[0].containerPort = "8080";
  assert.throws(() => new Deployment(broken as never).validate(), /containerPort must be integer/);
});

Deno.test("kubernetes: the Deployment probes, limits and locks down the container as the image expects", () => {
  const deployment = only("Deployment");
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  assert.equal(container.image, `edr-preprocessor:${VERSION}`, "the image of this version");
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  assert.equal(container.readinessProbe.httpGet.path, "/readyz");
  assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
  assert.ok(container.resources.limits.memory);
  // The Dockerfile's user (10001) and volume (/srv/edr/data): non-root, read-only root.
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.runAsUser, 10001);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  const mounts = Object.fromEntries(
    container.volumeMounts.map((m: Manifest) => [m.mountPath, m.name]),
  );
  assert.deepEqual(Object.keys(mounts).sort(), ["/srv/edr/data", "/tmp"]);
  const volumes = pod.volumes.map((v: Manifest) => v.name);
  for (const name of Object.values(mounts)) assert.ok(volumes.includes(name), `volume ${name}`);
  assert.equal(pod.serviceAccountName, only("ServiceAccount").metadata.name);
  assert.ok(pod.terminationGracePeriodSeconds > 20, "longer than SHUTDOWN_TIMEOUT_SECONDS");
});

Deno.test("kubernetes: the Deployment's environment is a configuration main.ts accepts", () => {
  const container = only("Deployment").spec.template.spec.containers[0];
  const known = new Set(settingNames(COMPONENTS));
  const env: Record<string, string> = {};
  for (const variable of container.env as Manifest[]) {
    assert.ok(known.has(variable.name), `${variable.name} is not a setting`);
    // A value from a Secret is not here: checked by name, with a sample of its shape.
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.name === "TLS_SCAN_DATABASE_URL") {
      env[variable.name] = "postgres://edr:sample@postgres.edr.svc.cluster.local:5432/tls_scan";
    }
  }
  assert.equal(env.TLS_SCAN_STORE, "postgres", "every replica shares tls-scan's store");
  const databaseUrl = (container.env as Manifest[]).find((v) => v.name === "TLS_SCAN_DATABASE_URL");
  assert.ok(databaseUrl?.valueFrom?.secretKeyRef, "the database URL (its password) from a Secret");
  assert.equal(env.AWS_ENDPOINT_URL, undefined, "the real AWS endpoints");
  assert.equal(env.AWS_ACCESS_KEY_ID, undefined, "credentials come from the service account");
  const loaded = loadConfig(COMPONENTS, env);
  assert.deepEqual(loaded.app.components, ["submissions", "ip-events", "tls-scan"]);
  const ports = container.ports.map((p: Manifest) => p.containerPort);
  assert.ok(ports.includes(loaded.app.httpPort));
});

Deno.test("kubernetes: the Service, PDB and ScaledObject point at the Deployment", () => {
  const deployment = only("Deployment");
  const labels = deployment.spec.template.metadata.labels;
  const matches = (selector: Record<string, string>) =>
    Object.entries(selector).every(([key, value]) => labels[key] === value);
  assert.ok(matches(only("Service").spec.selector));
  assert.ok(matches(only("PodDisruptionBudget").spec.selector.matchLabels));
  const portNames = deployment.spec.template.spec.containers[0].ports.map((p: Manifest) => p.name);
  for (const port of only("Service").spec.ports) assert.ok(portNames.includes(port.targetPort));
  const scaled = only("ScaledObject");
  assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
  assert.ok(scaled.spec.minReplicaCount >= 2, "the PDB leaves one running");
  const [trigger] = scaled.spec.triggers;
  assert.equal(trigger.type, "aws-sqs-queue");
  assert.equal(trigger.authenticationRef.name, only("TriggerAuthentication").metadata.name);
  const queueUrl = deployment.spec.template.spec.containers[0].env
    .find((v: Manifest) => v.name === "SQS_QUEUE_URL").value;
  assert.equal(trigger.metadata.queueURL, queueUrl, "KEDA watches the queue the service reads");
  assert.match(
    only("ServiceAccount").metadata.annotations["eks.amazonaws.com/role-arn"],
    /^arn:aws:iam::\d{12}:role\//,
  );
});

Deno.test("deploy/iam: the policy grants exactly the SQS and Kinesis actions the code calls", async () => {
  const policy = JSON.parse(
    await Deno.readTextFile(new URL("deploy/iam/edr-preprocessor-policy.json", ROOT)),
  );
  const granted = new Set<string>(policy.Statement.flatMap((s: Manifest) => s.Action));
  // The commands src/ sends, from its imports of the two SDK clients.
  const called = new Set<string>();
  for await (const file of walk(new URL("src/", ROOT))) {
    const text = await Deno.readTextFile(file);
    for (
      const [, names, client] of text.matchAll(
        /import\s*{([^}]*)}\s*from\s*"@aws-sdk\/client-(sqs|kinesis)"/g,
      )
    ) {
      for (const name of names!.split(",").map((n) => n.trim().replace(/^type\s+/, ""))) {
        const command = /^(\w+)Command$/.exec(name)?.[1];
        // IAM authorizes a batch call as its single-entry action.
        if (command) called.add(`${client}:${command.replace(/Batch$/, "")}`);
      }
    }
  }
  assert.ok(called.size >= 8, [...called].join());
  assert.deepEqual([...granted].sort(), [...called].sort());
  for (const statement of policy.Statement) assert.notEqual(statement.Resource, "*");
});

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) yield* walk(new URL(`${entry.name}/`, dir));
    else if (entry.name.endsWith(".ts")) yield new URL(entry.name, dir);
  }
}
