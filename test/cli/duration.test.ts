import assert from "node:assert/strict";
import { test } from "node:test";
import { durationValue } from "../../src/cli/flags.js";
import { UsageError } from "../../src/errors.js";

test("--timeout durations: units, compounds, bare seconds, 0 = none; anything else is a usage error", () => {
  assert.equal(durationValue("30s", "--timeout"), 30_000);
  assert.equal(durationValue("5m", "--timeout"), 300_000);
  assert.equal(durationValue("1h", "--timeout"), 3_600_000);
  assert.equal(durationValue("1m30s", "--timeout"), 90_000);
  assert.equal(durationValue("1500ms", "--timeout"), 1500);
  assert.equal(durationValue("2.5s", "--timeout"), 2500);
  assert.equal(durationValue("45", "--timeout"), 45_000);
  assert.equal(durationValue("0", "--timeout"), 0);
  for (const bad of ["", "5 minutes", "-1s", "1d", "s", "1h-"])
    assert.throws(
      () => durationValue(bad, "--timeout"),
      (e: Error) => e instanceof UsageError && /--timeout wants a duration/.test(e.message),
      bad,
    );
});
