import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { addDuration, DurationError, nextPeriodEnd, parseDuration } from "../../src/proxy/duration.js";

const at = (text: string): Date => new Date(text);

describe("durations as LiteLLM writes them", () => {
  test("every unit LiteLLM knows parses", () => {
    assert.deepEqual(
      ["30s", "5m", "1h", "7d", "2w", "1mo", " 3d "].map((text) => parseDuration(text)),
      [
        { count: 30, unit: "s", text: "30s" },
        { count: 5, unit: "m", text: "5m" },
        { count: 1, unit: "h", text: "1h" },
        { count: 7, unit: "d", text: "7d" },
        { count: 2, unit: "w", text: "2w" },
        { count: 1, unit: "mo", text: "1mo" },
        { count: 3, unit: "d", text: "3d" },
      ],
    );
  });

  test("an unknown unit, a bare number, a fraction or zero is refused, naming the value and the units", () => {
    for (const text of ["1y", "30", "1.5h", "0d", "d", "-1d", "1 d", ""]) {
      assert.throws(
        () => parseDuration(text),
        (error: unknown) =>
          error instanceof DurationError &&
          error.message.includes(`'${text}'`) &&
          error.message.includes("s (seconds), m (minutes), h (hours), d (days), w (weeks) or mo (months)"),
        text,
      );
    }
  });

  test("fixed units add their seconds; months add calendar months, clamped to the month's end", () => {
    assert.deepEqual(addDuration(at("2025-01-01T00:00:00Z"), parseDuration("90m")), at("2025-01-01T01:30:00Z"));
    assert.deepEqual(addDuration(at("2025-01-01T00:00:00Z"), parseDuration("2w")), at("2025-01-15T00:00:00Z"));
    assert.deepEqual(addDuration(at("2025-01-31T10:00:00Z"), parseDuration("1mo")), at("2025-02-28T10:00:00Z"));
    assert.deepEqual(addDuration(at("2024-01-31T10:00:00Z"), parseDuration("1mo")), at("2024-02-29T10:00:00Z"));
    assert.deepEqual(addDuration(at("2025-11-15T00:00:00Z"), parseDuration("3mo")), at("2026-02-15T00:00:00Z"));
    assert.deepEqual(addDuration(at("2025-03-31T00:00:00Z"), parseDuration("1mo"), -1), at("2025-02-28T00:00:00Z"));
    assert.deepEqual(addDuration(at("2025-03-10T00:00:00Z"), parseDuration("30d"), -1), at("2025-02-08T00:00:00Z"));
  });

  test("a period's next end keeps the cadence however much time went by", () => {
    const start = at("2025-01-01T09:00:00Z");
    assert.deepEqual(nextPeriodEnd(start, parseDuration("1d"), at("2025-01-01T09:00:00Z")), at("2025-01-02T09:00:00Z"));
    assert.deepEqual(nextPeriodEnd(start, parseDuration("1d"), at("2025-01-05T08:59:59Z")), at("2025-01-05T09:00:00Z"));
    assert.deepEqual(nextPeriodEnd(start, parseDuration("1d"), at("2025-01-05T09:00:00Z")), at("2025-01-06T09:00:00Z"));
    assert.deepEqual(nextPeriodEnd(start, parseDuration("30s"), at("2026-01-01T09:00:10Z")), at("2026-01-01T09:00:30Z"));
    assert.deepEqual(nextPeriodEnd(start, parseDuration("1mo"), at("2025-03-01T09:00:00Z")), at("2025-04-01T09:00:00Z"));
    assert.deepEqual(nextPeriodEnd(start, parseDuration("2mo"), at("2025-06-15T00:00:00Z")), at("2025-07-01T09:00:00Z"));
    assert.deepEqual(nextPeriodEnd(at("2025-01-31T00:00:00Z"), parseDuration("1mo"), at("2025-02-10T00:00:00Z")), at("2025-02-28T00:00:00Z"));
  });
});
