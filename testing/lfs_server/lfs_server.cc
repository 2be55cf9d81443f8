// datacube-lfs-server: a minimal Git LFS server for the test suite (the batch API of
// docs/protocols/git-lfs.md).
//
// No LFS server ships in Debian or npm, so the Git tests use this one, behind the same nginx that
// serves `git http-backend` (testing/servers/git.sh), mounted at /<repo>.git/info/lfs/. It is
// proven with the real git-lfs client by the git integration tests.
//
//   POST /<repo>.git/info/lfs/objects/batch       batch API, "basic" transfer, sha256
//   GET  /<repo>.git/info/lfs/objects/<oid>       download (streamed from disk)
//   PUT  /<repo>.git/info/lfs/objects/<oid>       upload (streamed to disk, hashed; a body that
//                                                 does not hash to <oid> is refused with 422)
//   POST /<repo>.git/info/lfs/verify              verify action
//   POST /<repo>.git/info/lfs/locks/verify        locking API stub (no locks)
//   GET  /healthz
//
// nginx checks HTTP basic auth for the batch and verify calls. The object URLs are exempt from
// basic auth there (as real servers hand out storage URLs with their own credentials): the batch
// response gives each action an "Authorization: RemoteAuth <token>" header, an HMAC of the
// object id under a key made at start-up, and the object handlers require it. That proves the
// client uses the action headers it was given.
//
// Objects live in ROOT/<repo>.git/<oid[0:2]>/<oid>. Tests corrupt one by writing that file. A
// repository exists for LFS when REPOS/<repo>.git (the bare repository) does.
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "datacube/crypto/hmac.h"
#include "datacube/crypto/sha256.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kLfsType[] = "application/vnd.git-lfs+json";

struct Config {
  std::string root;
  std::string repos;       // the bare repositories git-http-backend serves
  std::string public_url;  // e.g. https://127.0.0.1:7510 (what clients reach through nginx)
  std::string key;         // HMAC key for action tokens
};

bool SafeRepo(const std::string& repo) {
  if (repo.empty() || repo.front() == '/' || repo.find("..") != std::string::npos) return false;
  for (char c : repo) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/')) {
      return false;
    }
  }
  return true;
}

std::string ObjectPath(const Config& c, const std::string& repo, const std::string& oid) {
  return c.root + "/" + repo + ".git/" + oid.substr(0, 2) + "/" + oid;
}

std::string ActionToken(const Config& c, const std::string& repo, const std::string& oid) {
  return datacube::crypto::HexEncode(datacube::crypto::HmacSha256(c.key, repo + "\n" + oid));
}

void Error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"message", message}}.dump(), kLfsType);
}

bool Authorized(const Config& c, const httplib::Request& req, const std::string& repo,
                const std::string& oid) {
  return req.get_header_value("Authorization") == "RemoteAuth " + ActionToken(c, repo, oid);
}

json Action(const Config& c, const std::string& repo, const std::string& oid,
            const std::string& path) {
  return {{"href", c.public_url + "/" + repo + ".git/info/lfs/" + path},
          {"header", {{"Authorization", "RemoteAuth " + ActionToken(c, repo, oid)}}},
          {"expires_in", 3600}};
}

void Batch(const Config& c, const httplib::Request& req, httplib::Response& res) {
  std::string repo = req.matches[1];
  if (!SafeRepo(repo)) return Error(res, 404, "no such repository");
  if (!fs::is_directory(c.repos + "/" + repo + ".git")) {
    return Error(res, 404, "repository " + repo + " not found");
  }
  json in = json::parse(req.body, nullptr, false);
  if (in.is_discarded() || !in.contains("operation") || !in["objects"].is_array()) {
    return Error(res, 422, "malformed batch request");
  }
  if (in.value("hash_algo", std::string("sha256")) != "sha256") {
    return Error(res, 409, "only sha256 is supported");
  }
  std::string op = in["operation"];
  json objects = json::array();
  for (const auto& o : in["objects"]) {
    std::string oid = o.value("oid", "");
    int64_t size = o.value("size", int64_t{-1});
    json out = {{"oid", oid}, {"size", size}, {"authenticated", true}};
    if (!datacube::crypto::IsSha256Hex(oid) || size < 0) {
      out["error"] = {{"code", 422}, {"message", "invalid oid or size"}};
      objects.push_back(out);
      continue;
    }
    std::string path = ObjectPath(c, repo, oid);
    std::error_code ec;
    bool have = fs::exists(path, ec);
    if (op == "download") {
      if (!have) {
        out["error"] = {{"code", 404}, {"message", "object " + oid + " not found"}};
      } else {
        out["actions"] = {{"download", Action(c, repo, oid, "objects/" + oid)}};
      }
    } else if (op == "upload") {
      if (!have || static_cast<int64_t>(fs::file_size(path, ec)) != size) {
        out["actions"] = {{"upload", Action(c, repo, oid, "objects/" + oid)},
                          {"verify", Action(c, repo, oid, "verify")}};
      }
    } else {
      return Error(res, 422, "unknown operation " + op);
    }
    objects.push_back(out);
  }
  res.set_content(json{{"transfer", "basic"}, {"objects", objects}, {"hash_algo", "sha256"}}.dump(),
                  kLfsType);
}

void Download(const Config& c, const httplib::Request& req, httplib::Response& res) {
  std::string repo = req.matches[1], oid = req.matches[2];
  if (!SafeRepo(repo)) return Error(res, 404, "no such repository");
  if (!Authorized(c, req, repo, oid)) return Error(res, 401, "missing or wrong action token");
  std::string path = ObjectPath(c, repo, oid);
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec) return Error(res, 404, "object not found");
  auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
  res.set_content_provider(size, "application/octet-stream",
                           [file](size_t offset, size_t length, httplib::DataSink& sink) {
                             std::vector<char> buf(std::min<size_t>(length, 1 << 20));
                             file->seekg(static_cast<std::streamoff>(offset));
                             file->read(buf.data(), static_cast<std::streamsize>(buf.size()));
                             std::streamsize n = file->gcount();
                             return n > 0 && sink.write(buf.data(), static_cast<size_t>(n));
                           });
}

void Upload(const Config& c, const httplib::Request& req, httplib::Response& res,
            const httplib::ContentReader& reader) {
  std::string repo = req.matches[1], oid = req.matches[2];
  if (!SafeRepo(repo)) return Error(res, 404, "no such repository");
  if (!Authorized(c, req, repo, oid)) return Error(res, 401, "missing or wrong action token");
  std::string path = ObjectPath(c, repo, oid);
  fs::create_directories(fs::path(path).parent_path());
  std::string tmp =
      path + ".upload." + std::to_string(::getpid()) + "." + std::to_string(std::random_device{}());
  std::ofstream out(tmp, std::ios::binary);
  datacube::crypto::Sha256 sha;
  reader([&](const char* data, size_t n) {
    sha.Update(std::string_view(data, n));
    out.write(data, static_cast<std::streamsize>(n));
    return static_cast<bool>(out);
  });
  out.close();
  if (sha.FinishHex() != oid) {
    fs::remove(tmp);
    return Error(res, 422, "content does not hash to " + oid);
  }
  fs::rename(tmp, path);
  res.status = 200;
}

void Verify(const Config& c, const httplib::Request& req, httplib::Response& res) {
  std::string repo = req.matches[1];
  json in = json::parse(req.body, nullptr, false);
  std::string oid = in.is_object() ? in.value("oid", "") : "";
  if (!SafeRepo(repo) || !datacube::crypto::IsSha256Hex(oid)) return Error(res, 422, "bad oid");
  if (!Authorized(c, req, repo, oid)) return Error(res, 401, "missing or wrong action token");
  std::error_code ec;
  uint64_t size = fs::file_size(ObjectPath(c, repo, oid), ec);
  if (ec || static_cast<int64_t>(size) != in.value("size", int64_t{-1})) {
    return Error(res, 404, "object " + oid + " not stored with that size");
  }
  res.set_content("{}", kLfsType);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  int port = 0;
  std::string host = "127.0.0.1";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port")
      port = std::stoi(argv[i + 1]);
    else if (flag == "--root")
      c.root = argv[i + 1];
    else if (flag == "--repos")
      c.repos = argv[i + 1];
    else if (flag == "--public-url")
      c.public_url = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  if (port == 0 || c.root.empty() || c.repos.empty() || c.public_url.empty()) {
    std::fprintf(stderr,
                 "usage: %s --port N --root DIR --repos DIR --public-url https://host:port\n",
                 argv[0]);
    return 2;
  }
  std::random_device rd;
  for (int i = 0; i < 4; ++i) c.key += std::to_string(rd());

  httplib::Server server;
  const std::string repo = "/(.+)\\.git/info/lfs";
  server.Post(repo + "/objects/batch",
              [&](const httplib::Request& q, httplib::Response& r) { Batch(c, q, r); });
  server.Get(repo + "/objects/([0-9a-f]{64})",
             [&](const httplib::Request& q, httplib::Response& r) { Download(c, q, r); });
  server.Put(repo + "/objects/([0-9a-f]{64})",
             [&](const httplib::Request& q, httplib::Response& r,
                 const httplib::ContentReader& reader) { Upload(c, q, r, reader); });
  server.Post(repo + "/verify",
              [&](const httplib::Request& q, httplib::Response& r) { Verify(c, q, r); });
  server.Post(repo + "/locks/verify", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(R"({"ours":[],"theirs":[]})", kLfsType);
  });
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& r) {
    r.set_content("ok\n", "text/plain");
  });
  if (!server.listen(host, port)) {
    std::fprintf(stderr, "cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  return 0;
}
