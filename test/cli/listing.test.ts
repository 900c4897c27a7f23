// writeListing: page-by-page output that reads exactly as the collected document would.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Listing, mapPages, writeListing } from "../../src/cli/listing.ts";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) }, out, err };
}

async function* pagesOf<T>(pages: T[][]): AsyncGenerator<T[]> {
  for (const page of pages) yield page;
}

const item = fc.record(
  {
    id: fc.string(),
    n: fc.integer(),
    tags: fc.array(fc.string(), { maxLength: 2 }),
    at: fc.option(fc.string()),
  },
  { requiredKeys: ["id", "n", "tags"] },
);

const listing = <T>(pages: T[][], fields: Record<string, unknown> = { bucket: "b" }): Listing<T> => ({
  kind: "listing",
  fields,
  name: "things",
  pages: pagesOf(pages),
  line: (t) => JSON.stringify(t),
  whenEmpty: "Nothing here.",
});

describe("writeListing", () => {
  it("writes, page by page, the very JSON document the collected list would be (any pages, empty ones too)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(item, { maxLength: 4 }), { maxLength: 5 }),
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.boolean(), fc.array(fc.integer())), {
          maxKeys: 3,
        }),
        async (pages, fields) => {
          const c = capture();
          const fieldsWithoutName = Object.fromEntries(
            Object.entries(fields).filter(([k]) => k !== "things"),
          );
          const count = await writeListing(listing(pages, fieldsWithoutName), true, c.io);
          const expected = { ...fieldsWithoutName, things: pages.flat() };
          expect(c.out.join("")).toBe(`${JSON.stringify(expected, null, 2)}\n`);
          expect(count).toBe(pages.flat().length);
          expect(c.err).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("writes one line per item for people, and the empty note on stderr only when nothing was listed", async () => {
    const some = capture();
    await writeListing(listing([[{ a: 1 }], [], [{ a: 2 }, { a: 3 }]]), false, some.io);
    expect(some.out.join("")).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    expect(some.err).toEqual([]);
    const none = capture();
    await writeListing(listing([[], []]), false, none.io);
    expect(none.out).toEqual([]);
    expect(none.err).toEqual(["Nothing here.\n"]);
  });

  it("writes each page before the next is fetched, so memory holds one page", async () => {
    const c = capture();
    const writtenWhenFetching: number[] = [];
    async function* pages() {
      for (let i = 0; i < 3; i++) {
        writtenWhenFetching.push(c.out.length);
        yield [{ page: i }];
      }
    }
    await writeListing({ ...listing([]), pages: pages() }, false, c.io);
    expect(writtenWhenFetching).toEqual([0, 1, 2]);
  });

  it("passes a failure on a later page on, after writing the pages before it", async () => {
    const c = capture();
    async function* pages() {
      yield [{ page: 0 }];
      throw new Error("page 2 failed");
    }
    await expect(writeListing({ ...listing([]), pages: pages() }, false, c.io)).rejects.toThrow(
      "page 2 failed",
    );
    expect(c.out.join("")).toBe('{"page":0}\n');
  });
});

describe("mapPages", () => {
  it("maps every item and drops what maps to undefined, keeping the pages", async () => {
    const out: number[][] = [];
    for await (const page of mapPages(pagesOf([[1, 2, 3], [4]]), (n) => (n % 2 ? n * 10 : undefined)))
      out.push(page);
    expect(out).toEqual([[10, 30], []]);
  });
});
