/** Property-based: decoding what a button or select carries, over 10,000 generated inputs per property. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeShorterValue } from "../../src/bot/change-views.ts";
import { decodeButtonValue, encodeButtonValue } from "../../src/bot/views.ts";
import { isRequestId, isSlackId } from "../../src/rules/slack-ids.ts";

const RUNS = { numRuns: 10_000 };
const idLike = fc.oneof(fc.string({ maxLength: 70 }), fc.stringMatching(/^[A-Za-z0-9_-]{4,64}$/));
const userLike = fc.oneof(fc.string({ maxLength: 25 }), fc.stringMatching(/^[UW][A-Z0-9]{2,20}$/));
const anyJson = fc.oneof(
  fc.json(),
  fc
    .record({ id: fc.oneof(idLike, fc.anything()), r: fc.oneof(userLike, fc.anything()) })
    .map((v) => JSON.stringify(v)),
  fc
    .record({ id: idLike, r: userLike, d: fc.oneof(fc.integer(), fc.double(), fc.anything()) })
    .map((v) => JSON.stringify(v)),
);
const raw = fc.oneof(fc.string({ maxLength: 80 }), anyJson, fc.constant(undefined));

describe("button values (property)", () => {
  it("decodeButtonValue never throws and accepts only a request ID with, if any, a Slack user ID and a matching copy", () => {
    fc.assert(
      fc.property(raw, (value) => {
        const v = decodeButtonValue(value);
        if (!v) return;
        expect(isRequestId(v.id)).toBe(true);
        if (v.requester !== undefined) expect(isSlackId("user", v.requester)).toBe(true);
        if (v.request) {
          expect(v.request.id).toBe(v.id);
          expect(v.request.requesterUserId).toBe(v.requester);
        }
      }),
      RUNS,
    );
  });

  it("what a card encodes decodes to the same request and requester", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{4,64}$/),
        fc.stringMatching(/^[UW][A-Z0-9]{2,20}$/),
        (id, requester) => {
          expect(decodeButtonValue(encodeButtonValue({ id, requester }))).toEqual({ id, requester });
        },
      ),
      RUNS,
    );
  });

  it("decodeShorterValue never throws and accepts only a request ID, a Slack user ID and a whole number of days ≥ 1", () => {
    fc.assert(
      fc.property(raw, (value) => {
        const v = decodeShorterValue(value);
        if (!v) return;
        expect(isRequestId(v.id)).toBe(true);
        expect(isSlackId("user", v.requester)).toBe(true);
        expect(Number.isInteger(v.days) && v.days >= 1).toBe(true);
      }),
      RUNS,
    );
  });
});
