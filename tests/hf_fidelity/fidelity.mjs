// Drives the Hub fixture with the official JavaScript client, @huggingface/hub (node_modules), for
// tests/hf_fidelity_test.cc. One operation per run; the result is one JSON object on stdout. A
// client error prints {"error": message, "status": HTTP status} and exits 3.
//
//   echo '{"hubUrl": ..., "accessToken": ..., "repo": ..., ...}' | node fidelity.mjs OP
//
// Parameters come on stdin, so the token is never on a command line (visible to every local
// user) nor in an environment.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  commit,
  createRepo,
  downloadFile,
  downloadFileToCacheDir,
  fileDownloadInfo,
  listFiles,
  modelInfo,
  pathsInfo,
  scanCacheDir,
  snapshotDownload,
  uploadFiles,
} from "@huggingface/hub";

const op = process.argv[2];
let raw = "";
for await (const chunk of process.stdin) raw += chunk;
const p = JSON.parse(raw || "{}");
const creds = p.accessToken ? { accessToken: p.accessToken } : {};
const base = { hubUrl: p.hubUrl, repo: p.repo, ...creds };

async function sha256OfBlob(blob) {
  const h = createHash("sha256");
  const reader = blob.stream().getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    h.update(value);
    size += value.length;
  }
  return { sha256: h.digest("hex"), size };
}

async function contentOf(file) {
  if (file.localPath) return new Blob([await readFile(file.localPath)]);
  return new Blob([file.content ?? ""]);
}

const ops = {
  async info() {
    const info = await modelInfo({ ...creds, hubUrl: p.hubUrl, name: p.repo,
                                   additionalFields: ["sha"], revision: p.revision });
    return { sha: info.sha, private: info.private, gated: info.gated, name: info.name };
  },
  async list() {
    const entries = [];
    for await (const e of listFiles({ ...base, recursive: true, revision: p.revision })) {
      entries.push({ path: e.path, type: e.type, size: e.size, oid: e.oid, lfs: e.lfs ?? null });
    }
    return { entries };
  },
  async download() {
    const info = await fileDownloadInfo({ ...base, path: p.path, revision: p.revision });
    if (!info) return { missing: true };
    const blob = await downloadFile({ ...base, path: p.path, revision: p.revision });
    return { ...(await sha256OfBlob(blob)), etag: info.etag, infoSize: info.size };
  },
  async paths() {
    const entries = await pathsInfo({ ...base, paths: p.paths, revision: p.revision });
    return { entries: entries.map((e) => ({ path: e.path, type: e.type, size: e.size,
                                            oid: e.oid, lfs: e.lfs ?? null })) };
  },
  async create() {
    const out = await createRepo({ ...creds, hubUrl: p.hubUrl, repo: p.repo,
                                   private: p.private ?? false });
    return out;
  },
  async upload() {
    const files = [];
    for (const f of p.files) files.push({ path: f.path, content: await contentOf(f) });
    const out = await uploadFiles({ ...base, files, commitTitle: p.title,
                                    isPullRequest: p.isPullRequest ?? false });
    return { commit: out.commit, pullRequestUrl: out.pullRequestUrl ?? null };
  },
  async delete() {
    const out = await commit({ ...base, title: p.title ?? "delete",
                               operations: p.paths.map((path) => ({ operation: "delete", path })) });
    return { commit: out.commit };
  },
  async snapshot() {
    const dir = await snapshotDownload({ ...base, cacheDir: p.cacheDir, revision: p.revision });
    return { snapshot: dir };
  },
  async scan() {
    const info = await scanCacheDir(p.cacheDir);
    return {
      warnings: info.warnings.map((w) => String(w)),
      repos: info.repos.map((r) => ({
        id: r.id,
        filesCount: r.filesCount,
        revisions: r.revisions.map((v) => ({
          commitOid: v.commitOid,
          refs: v.refs,
          files: v.files.map((f) => ({ path: f.path, blob: f.blob.path, size: f.blob.size })),
        })),
      })),
    };
  },
  // The library's offline path: a commit-hash revision found in the cache needs no request.
  async cached() {
    const path = await downloadFileToCacheDir({ ...base, path: p.path, revision: p.revision,
                                                cacheDir: p.cacheDir });
    return { path };
  },
};

try {
  if (!ops[op]) throw new Error(`unknown operation ${op}`);
  process.stdout.write(JSON.stringify(await ops[op]()) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e?.message ?? e),
                                        status: e?.statusCode ?? null }) + "\n");
  process.exit(3);
}
