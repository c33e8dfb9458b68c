/**
 * The oracle's strict decoding (test/oracles/psa, {"decode": manifest}), which tests of generated
 * manifests rely on (issue #16: "generated manifests decode strictly into k8s.io/api types"): it must
 * catch what the API server's strict field validation catches, or a passing test would prove nothing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { skipNow } from "../helpers/env.js";
import { psaOracle, runPsaOracle } from "../helpers/psa-oracle.js";

test("the oracle decodes manifests strictly: unknown and miscased fields are named, unknown kinds refused", async (t) => {
  const bin = psaOracle();
  if (!bin) return skipNow(t, "MISSING: tool go (builds the oracle, test/oracles/psa)");
  const deployment = (extra: Record<string, unknown>) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [{ name: "app", image: "i", securityContext: { runAsNonRoot: true, ...extra } }],
        },
      },
    },
  });
  const [good, bad, unknown] = await runPsaOracle(bin, [
    { decode: deployment({}) },
    { decode: deployment({ runAsNonroot: true, readOnlyRootFS: true }) },
    { decode: { apiVersion: "example.com/v1", kind: "Widget" } },
  ]);
  assert.deepEqual(good!.decodeErrors, []);
  assert.deepEqual(bad!.decodeErrors?.sort(), [
    'unknown field "spec.template.spec.containers[0].securityContext.readOnlyRootFS"',
    'unknown field "spec.template.spec.containers[0].securityContext.runAsNonroot"',
  ]);
  assert.match(unknown!.error ?? "", /unknown apiVersion\/kind "example.com\/v1" "Widget"/);
});
