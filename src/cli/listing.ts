// `list user` and `list grant` write each page as it arrives instead of collecting every page first, so
// listing 10,000 grants takes the memory of one page. The JSON is the same document a collected list
// would print with JSON.stringify(…, null, 2), written piece by piece.
//
// A failure on a later page leaves the lines (or the partial JSON) already written, and the command
// still ends with the error on stderr and exit code 1: a script must check the exit code, as with any
// command that prints as it goes.

import type { CliIo } from "./program.ts";

export interface Listing<T> {
  kind: "listing";
  /** The JSON document's fields before the list (e.g. `bucket`), in order. */
  fields: Record<string, unknown>;
  /** The list's field name in JSON ("users", "grants"). */
  name: string;
  pages: AsyncIterable<readonly T[]>;
  /** One line for people per item. */
  line(item: T): string;
  /** The note for people (stderr) when nothing was listed. */
  whenEmpty?: string;
}

const indent = (text: string, by: string) => text.replaceAll("\n", `\n${by}`);

/** Writes the listing page by page; returns how many items it listed. */
export async function writeListing<T>(listing: Listing<T>, json: boolean, io: CliIo): Promise<number> {
  let count = 0;
  if (!json) {
    for await (const page of listing.pages) {
      if (page.length > 0) io.stdout(page.map((item) => `${listing.line(item)}\n`).join(""));
      count += page.length;
    }
    if (count === 0 && listing.whenEmpty) io.stderr(`${listing.whenEmpty}\n`);
    return count;
  }
  const head = Object.entries(listing.fields).map(
    ([key, value]) => `  ${JSON.stringify(key)}: ${indent(JSON.stringify(value, null, 2), "  ")},\n`,
  );
  io.stdout(`{\n${head.join("")}  ${JSON.stringify(listing.name)}: [`);
  for await (const page of listing.pages) {
    if (page.length === 0) continue;
    const items = page.map((item) => `    ${indent(JSON.stringify(item, null, 2), "    ")}`);
    io.stdout(`${count === 0 ? "\n" : ",\n"}${items.join(",\n")}`);
    count += page.length;
  }
  io.stdout(count === 0 ? "]\n}\n" : "\n  ]\n}\n");
  return count;
}

/** Each page of `pages` mapped by `f`, without the items it maps to undefined. */
export async function* mapPages<A, B>(
  pages: AsyncIterable<readonly A[]>,
  f: (a: A) => B | undefined,
): AsyncGenerator<B[]> {
  for await (const page of pages) yield page.map(f).filter((b): b is B => b !== undefined);
}
