// The page's model without a browser: availability, reply times and decline reasons as the
// person reads them (node --test).

import { create } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import { test } from "node:test";
import { AvailabilitySchema, DeclineReason, TimeRangeSchema } from "./gen/confide/v1/confide_pb.js";
import { availabilityText, declineText, durationText, replyTimeText, retentionText } from "./model.js";

// Monday 2027-01-11 08:00 UTC.
const monday8 = Date.UTC(2027, 0, 11, 8, 0);
const hour = 3600 * 1000;

function week() {
  return create(AvailabilitySchema, {
    hasOfficeHours: true,
    upcomingOfficeHours: [
      create(TimeRangeSchema, { startMs: BigInt(monday8), endMs: BigInt(monday8 + 8 * hour) }),
    ],
    expectedReplyMinutes: 240,
    medianFirstReplyMs: BigInt(2 * hour),
    firstReplySamples: 12,
  });
}

test("outside office hours a specialist is away until the next start, in the person's time zone", () => {
  const saturday = monday8 - 2 * 24 * hour;
  const text = availabilityText(week(), saturday, "UTC");
  assert.match(text, /^away until Monday.*08.00/);
  // The same moment for a person in Berlin: 09:00 their time.
  assert.match(availabilityText(week(), saturday, "Europe/Berlin"), /^away until Monday.*09.00/);
});

test("within office hours it says until when, decided by the person's clock", () => {
  assert.match(availabilityText(week(), monday8 + hour, "UTC"), /^in office hours until Monday.*(16.00|04.00\s?PM)/);
  // After the last hours the server sent: away.
  assert.equal(availabilityText(week(), monday8 + 9 * hour, "UTC"), "away");
  // No office hours: nothing to say.
  assert.equal(availabilityText(create(AvailabilitySchema, {}), monday8, "UTC"), "");
});

test("reply times: the stated one beside the measured one", () => {
  assert.equal(replyTimeText(week()), "replies within 4 h · median first reply 2 h (last 30 days)");
  assert.equal(durationText(90 * 1000), "2 min");
  assert.equal(durationText(3 * 24 * hour), "3 days");
});

test("every decline reason reads as a sentence, none for no reason", () => {
  assert.equal(declineText(DeclineReason.DECLINE_REASON_UNSPECIFIED), "");
  for (const r of [
    DeclineReason.NO_CAPACITY,
    DeclineReason.OUTSIDE_EXPERTISE,
    DeclineReason.SCHEDULE_MISMATCH,
    DeclineReason.LANGUAGE_MISMATCH,
    DeclineReason.OTHER_CARE_NEEDED,
    DeclineReason.OTHER_REASON,
  ]) {
    assert.match(declineText(r), /\.$/);
  }
});

test("the retention reads as a sentence, none when messages are kept", () => {
  assert.equal(retentionText(0), "");
  assert.equal(retentionText(1), "Messages are kept for 1 day, then deleted from the server.");
  assert.equal(retentionText(30), "Messages are kept for 30 days, then deleted from the server.");
});
