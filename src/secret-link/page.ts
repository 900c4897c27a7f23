// The secret-link page: plain HTML, one inline stylesheet and one inline script, both allowed
// by hash in the Content-Security-Policy (no nonces, so every "gone" answer is byte-identical
// whatever the reason). The script never POSTs unless the fragment holds a well-formed key,
// decrypts with WebCrypto exactly as crypto.ts does, and only writes text (never HTML).
import { createHash } from "node:crypto";

/** Header the page's fetch sets; a cross-site form cannot set it, and cross-origin fetch must preflight. */
export const REVEAL_HEADER = "x-requested-with";
export const REVEAL_HEADER_VALUE = "cytoskel-reveal";

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #f6f7f9; --card: #fff; --muted: #57606a;
  --accent: #0b5cad; --warn: #9a3412; --ok: #166534; --line: #d0d7de; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --card: #161b22;
  --muted: #9da7b3; --accent: #58a6ff; --warn: #fb923c; --ok: #4ade80; --line: #30363d; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
main { max-width: 46rem; margin: 2rem auto; padding: 1.5rem 2rem; background: var(--card);
  border: 1px solid var(--line); border-radius: 8px; }
h1 { font-size: 1.4rem; margin-top: 0; }
h2 { font-size: 1.1rem; margin-top: 1.5rem; }
p, li { max-width: 42rem; }
.muted { color: var(--muted); }
.warn { color: var(--warn); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; }
button { font: inherit; cursor: pointer; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: #fff; padding: .5rem 1.2rem; }
button:disabled { opacity: .5; cursor: default; }
button.copy { background: transparent; color: var(--accent); padding: .1rem .6rem; font-size: .85rem; }
dl { display: grid; grid-template-columns: max-content 1fr max-content; gap: .4rem .8rem; align-items: center; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
dd code { white-space: pre-wrap; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9rem; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .8rem;
  overflow-x: auto; white-space: pre; }
.snippet { text-align: right; }
.snippet pre { text-align: left; margin-top: .3rem; }
.instructions { white-space: pre-wrap; }
`;

// No backticks or "${" below: this is the exact text the CSP hash covers.
const SCRIPT = String.raw`
(function () {
  "use strict";
  var KEY_RE = /^[A-Za-z0-9_-]{43}$/;
  var app = document.getElementById("app");
  if (!app) return;
  var id = app.getAttribute("data-link-id") || "";
  var revealButton = document.getElementById("reveal");
  var intro = document.getElementById("intro");
  var statusBox = document.getElementById("status");
  var gone = document.getElementById("gone");
  var result = document.getElementById("result");
  var key = location.hash.replace(/^#/, "");

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = kind || "";
    statusBox.hidden = false;
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function bytes(b64) {
    var bin = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function copyButton(getText, target) {
    var b = el("button", "Copy", "copy");
    b.type = "button";
    b.addEventListener("click", function () {
      var done = function (label) {
        b.textContent = label;
        setTimeout(function () { b.textContent = "Copy"; }, 2000);
      };
      navigator.clipboard.writeText(getText()).then(function () { done("Copied"); }, function () {
        var range = document.createRange();
        range.selectNodeContents(target);
        var sel = getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        done("Selected: press Ctrl+C");
      });
    });
    return b;
  }
  function showGone() {
    intro.hidden = true;
    statusBox.hidden = true;
    gone.hidden = false;
  }
  function profileName(scope) {
    var name = scope.replace(/\/?\*$/, "").replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
    return name || "cytoskel-data";
  }
  function render(p) {
    var baseProfile = "cytoskel";
    var scopes = Array.isArray(p.scopes) ? p.scopes : [];
    var list = el("dl");
    var fields = [
      ["accessKeyId", "Access key ID", p.accessKeyId],
      ["secretAccessKey", "Secret access key", p.secretAccessKey],
      ["bucket", "Bucket", p.bucket],
      ["region", "Region", p.region],
      ["scopes", scopes.length > 1 ? "Prefixes" : "Prefix", scopes.join("\n")]
    ];
    if (p.permission) fields.push(["permission", "Permission", p.permission]);
    fields.forEach(function (f) {
      var value = el("code", String(f[2] || ""));
      value.setAttribute("data-field", f[0]);
      var dd = el("dd");
      dd.appendChild(value);
      list.appendChild(el("dt", f[1]));
      list.appendChild(dd);
      var cell = el("dd");
      cell.appendChild(copyButton(function () { return value.textContent; }, value));
      list.appendChild(cell);
    });
    function snippet(title, text, field, note) {
      result.appendChild(el("h2", title));
      if (note) result.appendChild(el("p", note, "muted"));
      var wrap = el("div", undefined, "snippet");
      var pre = el("pre", text);
      pre.setAttribute("data-field", field);
      wrap.appendChild(copyButton(function () { return text; }, pre));
      wrap.appendChild(pre);
      result.appendChild(wrap);
    }
    result.appendChild(el("h1", "Your Cell Painting Gallery access credentials"));
    result.appendChild(el("p", "These credentials will not be shown again: this link is now used up. " +
      "Save them before you close this tab.", "warn"));
    result.appendChild(list);
    snippet("~/.aws/credentials", "[" + baseProfile + "]\naws_access_key_id = " + p.accessKeyId +
      "\naws_secret_access_key = " + p.secretAccessKey + "\n", "credentials-file",
      "Add this profile to ~/.aws/credentials. These long-lived keys can only ask for temporary, " +
      "prefix-scoped credentials; they cannot read or write data themselves.");
    var config = scopes.map(function (scope) {
      return "[profile " + profileName(scope) + "]\nregion = " + p.region +
        // The base profile is named explicitly: inheriting AWS_PROFILE would make this profile call itself.
        "\ncredential_process = env AWS_PROFILE=" + baseProfile + " cytoskel credentials --prefix " + scope +
        (p.permission ? " --permission " + p.permission : "") + " --format credential-process\n";
    }).join("\n");
    if (config) {
      snippet("~/.aws/config", config, "config-file",
        "With this in ~/.aws/config (and the cytoskel command installed), the AWS CLI and SDKs fetch " +
        "temporary credentials for the prefix for you: cytoskel keeps them (1 hour each by default) in " +
        "your cache folder and asks AWS again only when they near their end.");
      var first = scopes[0];
      snippet("Try it", "aws s3 ls s3://" + p.bucket + "/" + first.replace(/\*$/, "") +
        " --profile " + profileName(first) + "\n", "try-it");
    }
    if (p.instructions) {
      result.appendChild(el("h2", "Instructions"));
      result.appendChild(el("p", String(p.instructions), "instructions"));
    }
    result.hidden = false;
  }

  if (!KEY_RE.test(key)) {
    revealButton.disabled = true;
    say("This link is incomplete: the part after the # (the decryption key) is missing or damaged, " +
      "so nothing was revealed and the link is still unused. Open the complete link from your Slack " +
      "message; if it still fails, ask an admin to re-issue your credentials.", "warn");
    return;
  }
  if (!window.crypto || !crypto.subtle) {
    revealButton.disabled = true;
    say("This browser cannot decrypt the credentials (WebCrypto is unavailable). Nothing was revealed; " +
      "open the link in an up-to-date browser.", "warn");
    return;
  }

  revealButton.addEventListener("click", function () {
    revealButton.disabled = true;
    say("Revealing\u2026", "muted");
    fetch(location.pathname, {
      method: "POST",
      headers: { "X-Requested-With": "cytoskel-reveal" },
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer"
    }).then(function (res) {
      if (res.status === 410) { showGone(); return null; }
      if (!res.ok) throw new Error("status " + res.status);
      return res.json();
    }).then(function (sealed) {
      if (!sealed) return null;
      // The key has done its job; keep it out of the address bar, history and screen shares.
      history.replaceState(null, "", location.pathname);
      return crypto.subtle.importKey("raw", bytes(key), { name: "AES-GCM" }, false, ["decrypt"])
        .then(function (k) {
          return crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes(sealed.iv), tagLength: 128,
            additionalData: new TextEncoder().encode("cytoskel-secret-link:v1:" + id) }, k, bytes(sealed.ciphertext));
        })
        .then(function (plain) {
          key = "";
          intro.hidden = true;
          statusBox.hidden = true;
          render(JSON.parse(new TextDecoder().decode(plain)));
        }, function () {
          say("The link was opened, but its key does not match the stored credentials, so they cannot be " +
            "decrypted (the link may have been altered). The link is now used up: ask an admin to " +
            "re-issue your credentials.", "warn");
        });
    }).catch(function () {
      revealButton.disabled = false;
      say("Could not reach the server. If this keeps happening, ask an admin to re-issue your credentials.",
        "warn");
    });
  });
})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join("; ");

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

export interface PageOptions {
  /** Who the page says sent the link, e.g. "the Cell Painting Gallery admins". */
  senderName: string;
}

const GONE_TEXT = (senderName: string) => `
<h1>This link has already been opened or has expired</h1>
<p>Credentials links work once, and only for a limited time, so nothing can be shown here.</p>
<p>If you opened it yourself and saved the credentials, you are all set. If you did not open it, or you
lost the credentials before saving them, ask ${escapeHtml(senderName)} to <strong>re-issue</strong> your
credentials in Slack. Re-issuing replaces your access key, so any copy of the old one stops working.</p>`;

/** The one answer for consumed, expired, unknown and malformed links alike. */
export function gonePage(opts: PageOptions): string {
  return layout("Link already opened or expired", `<main>${GONE_TEXT(opts.senderName)}\n</main>`);
}

export function revealPage(opts: PageOptions & { id: string }): string {
  const body = `<main id="app" data-link-id="${escapeHtml(opts.id)}">
<section id="intro">
<h1>Your Cell Painting Gallery access credentials</h1>
<p>This one-time link was sent to you by ${escapeHtml(opts.senderName)} through <strong>cytoskel</strong>, the
Slack bot that manages upload access to the Cell Painting Gallery staging bucket, after your access request
was approved.</p>
<p>Revealing the credentials uses the link up: they are decrypted here, in your browser, shown once, and
cannot be shown again. Have a safe place ready (for example <code>~/.aws/credentials</code>) before you continue.</p>
<noscript><p class="warn">This page needs JavaScript: the credentials are decrypted in your browser, with a key
that never leaves it.</p></noscript>
<p><button id="reveal" type="button">Reveal credentials</button></p>
</section>
<p id="status" role="status" hidden></p>
<section id="gone" hidden>${GONE_TEXT(opts.senderName)}
</section>
<section id="result" hidden></section>
</main>
<script>${SCRIPT}</script>`;
  return layout("Your Cell Painting Gallery access credentials", body);
}

export function notFoundPage(): string {
  return layout("Not found", "<main><h1>Not found</h1><p>There is nothing at this address.</p></main>");
}
