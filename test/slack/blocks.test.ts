import { describe, expect, it } from "vitest";
import { actions, button } from "../../src/slack/blocks.ts";

describe("button", () => {
  it("carries no style key unless one is asked for (Slack's default grey button)", () => {
    expect(button("cytoskel_extend", "Request extension", "req-1")).toEqual({
      type: "button",
      action_id: "cytoskel_extend",
      text: { type: "plain_text", text: "Request extension" },
      value: "req-1",
    });
    expect(Object.keys(button("a", "A", "v"))).not.toContain("style");
  });

  it("sets primary or danger when asked, inside an actions block with its block_id", () => {
    expect(
      actions("decision", [button("a", "Approve", "v", "primary"), button("d", "Deny", "v", "danger")]),
    ).toMatchObject({
      type: "actions",
      block_id: "decision",
      elements: [{ style: "primary" }, { style: "danger" }],
    });
  });
});
