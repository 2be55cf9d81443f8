// The datacube binary against servers and trees that misbehave on purpose: a server that stalls
// a listing or a body (Ctrl-C and SIGTERM must still stop the run at once), keys and file names
// holding newlines and terminal escapes (output stays one line per entry, JSON stays JSON), a
// source with both "a" and "a/b", a redirect to file://, and numeric flags out of range.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "datacube/crypto/sha256.h"
#include "testing/test_util/test_util.h"

namespace datacube::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string PercentEncode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// An S3-like server on a loopback port, bucket "bucket", path-style. It answers
// ListObjectsV2 (url-encoded keys), HEAD and GET of its objects, and on request stalls a
// listing, stalls a GET after half its body, or redirects a GET elsewhere. Stalls end when the
// test releases them (or after a minute), so the server always shuts down.
class HostileS3 {
 public:
  HostileS3() {
    // (httplib answers HEAD with the GET handler.)
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      if (req.method == "HEAD") return Head(req, res);
      Get(req, res);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~HostileS3() {
    Release();
    server_.stop();
    thread_.join();
  }

  void Put(const std::string& key, const std::string& body) { objects_[key] = body; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::map<std::string, std::string> Env() const {
    return {{"AWS_ENDPOINT_URL_S3", url()},
            {"AWS_ENDPOINT_URL", url()},
            {"AWS_ACCESS_KEY_ID", "AKIDTEST"},
            {"AWS_SECRET_ACCESS_KEY", "secretsecret"},
            {"AWS_REGION", "us-east-1"},
            {"HF_ENDPOINT", url()},
            {"HF_TOKEN", "hf_testtoken"},
            {"AWS_CONFIG_FILE", "/nonexistent"},
            {"AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"}};
  }

  std::atomic<bool> stall_lists{false};
  std::atomic<bool> stall_all{false};  // every request, whatever it is
  std::atomic<bool> stall_gets{false};
  std::atomic<bool> malformed_list{false};
  std::string redirect_to;      // GETs of objects answer 302 to this
  std::atomic<int> stalled{0};  // requests now waiting in a stall
  std::atomic<int> gets{0};

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  // Waits until `n` requests are stalled (true) or 10 s passed.
  bool WaitStalled(int n) {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (stalled.load() < n && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return stalled.load() >= n;
  }

 private:
  void Stall() {
    ++stalled;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return released_; });
    --stalled;
  }

  static std::string Sha256Hex(const std::string& s) {
    crypto::Sha256 h;
    h.Update(s);
    return h.FinishHex();
  }

  void Headers(const std::string& body, httplib::Response& res) {
    res.set_header("x-amz-meta-sha256", Sha256Hex(body));
    res.set_header("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT");
  }

  // "/bucket/key" -> key (decoded), or "" for the bucket itself.
  static std::string KeyOf(const httplib::Request& req) {
    std::string path = req.path;
    if (path.rfind("/bucket", 0) != 0) return "";
    path = path.substr(std::string("/bucket").size());
    if (!path.empty() && path[0] == '/') path = path.substr(1);
    return PercentDecode(path);
  }

  void Get(const httplib::Request& req, httplib::Response& res) {
    if (stall_all) Stall();
    std::string key = KeyOf(req);
    if (key.empty() && req.has_param("list-type")) return List(req, res);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NoSuchKey(res);
    ++gets;
    if (!redirect_to.empty()) {
      res.status = 302;
      res.set_header("Location", redirect_to);
      return;
    }
    const std::string body = it->second;
    Headers(body, res);
    if (!stall_gets) {
      res.set_content(body, "application/octet-stream");
      return;
    }
    // Half the body, then nothing until released: a stalled download.
    res.set_content_provider(body.size(), "application/octet-stream",
                             [this, body](size_t offset, size_t, httplib::DataSink& sink) {
                               if (offset == 0) {
                                 sink.write(body.data(), body.size() / 2);
                                 return true;
                               }
                               Stall();
                               sink.write(body.data() + offset, body.size() - offset);
                               return true;
                             });
  }

  void Head(const httplib::Request& req, httplib::Response& res) {
    if (stall_all) Stall();
    std::string key = KeyOf(req);
    if (key.empty()) {
      res.status = 200;  // the bucket exists
      return;
    }
    auto it = objects_.find(key);
    if (it == objects_.end()) {
      res.status = 404;
      return;
    }
    Headers(it->second, res);
    res.set_content(it->second, "application/octet-stream");  // the length; HEAD sends no body
  }

  void NoSuchKey(httplib::Response& res) {
    res.status = 404;
    res.set_content(
        "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>",
        "application/xml");
  }

  void List(const httplib::Request& req, httplib::Response& res) {
    if (stall_lists) Stall();
    const std::string prefix = req.get_param_value("prefix");
    const std::string delimiter = req.get_param_value("delimiter");
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>bucket</Name>"
        "<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>";
    std::vector<std::string> prefixes;
    for (const auto& [key, body] : objects_) {
      if (key.rfind(prefix, 0) != 0) continue;
      if (!delimiter.empty()) {
        size_t slash = key.find('/', prefix.size());
        if (slash != std::string::npos) {
          std::string p = key.substr(0, slash + 1);
          if (prefixes.empty() || prefixes.back() != p) prefixes.push_back(p);
          continue;
        }
      }
      std::string size = malformed_list ? "-5" : std::to_string(body.size());
      xml += "<Contents><Key>" + PercentEncode(key) +
             "</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><Size>" + size +
             "</Size></Contents>";
    }
    for (const auto& p : prefixes) {
      xml += "<CommonPrefixes><Prefix>" + PercentEncode(p) + "</Prefix></CommonPrefixes>";
    }
    xml += "</ListBucketResult>";
    if (malformed_list) xml = "<ListBucketResult><Contents><Key>x</Key><Size>abc";
    res.set_content(xml, "application/xml");
  }

  httplib::Server server_;
  std::map<std::string, std::string> objects_;  // set before requests arrive
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;  // guarded by mu_
  int port_ = 0;
  std::thread thread_;
};

struct Exit {
  int code = -1;
  double seconds = 0;
};

// Waits up to `limit` for `pid`; kills it (and reports code -1) if it is still running then.
Exit WaitWithin(int pid, std::chrono::milliseconds limit) {
  auto start = Clock::now();
  while (Clock::now() - start < limit) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      Exit e;
      e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      e.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  WaitCommand(pid);
  return Exit{-1, std::chrono::duration<double>(Clock::now() - start).count()};
}

// Files below `dir` that are not hidden temporaries (a torn file would be one of these).
std::vector<std::string> VisibleFiles(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& rel : ListFilesRecursive(dir)) {
    if (fs::path(rel).filename().string()[0] == '.') continue;
    out.push_back(rel);
  }
  return out;
}

class CliHostileTest : public ::testing::Test {
 protected:
  CommandResult Dc(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), DatacubeBin());
    CommandOptions o;
    o.env = std::move(env);
    o.timeout = std::chrono::minutes(2);
    return RunCommand(args, o);
  }
  // Starts datacube in the background; stdout/stderr go to files in tmp_.
  int Spawn(std::vector<std::string> args, std::map<std::string, std::string> env) {
    args.insert(args.begin(), DatacubeBin());
    CommandOptions o;
    o.env = std::move(env);
    return SpawnCommand(args, tmp_ / "out.txt", tmp_ / "err.txt", o);
  }
  std::string Err() { return ReadFile(tmp_ / "err.txt"); }

  // Sends `signo` once the server holds `stalled` requests; returns how the process ended.
  Exit InterruptWhenStalled(int pid, HostileS3& s3, int stalled, int signo) {
    EXPECT_TRUE(s3.WaitStalled(stalled)) << "the request never reached the server\n" << Err();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::kill(pid, signo);
    return WaitWithin(pid, std::chrono::seconds(5));
  }

  TempDir tmp_;
};

// --- Signals -------------------------------------------------------------------------------

TEST_F(CliHostileTest, SigtermDuringAStalledListingStopsCpAtOnceWith143) {
  HostileS3 s3;
  s3.Put("p/a.bin", std::string(1000, 'a'));
  s3.stall_lists = true;
  int pid = Spawn({"--progress", "none", "cp", "s3://bucket/p/", tmp_ / "dst"}, s3.Env());
  Exit e = InterruptWhenStalled(pid, s3, 1, SIGTERM);
  EXPECT_EQ(e.code, 143) << Err();
  EXPECT_LT(e.seconds, 1.0) << Err();
  EXPECT_NE(Err().find("interrupted by SIGTERM; rerun to resume"), std::string::npos) << Err();
  EXPECT_TRUE(VisibleFiles(tmp_ / "dst").empty());
}

TEST_F(CliHostileTest, SigintDuringAStalledDownloadStopsSyncWith130AndLeavesNoTornFile) {
  HostileS3 s3;
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  s3.Put("p/big.bin", big);
  s3.stall_gets = true;
  int pid = Spawn({"--progress", "none", "sync", "s3://bucket/p/", tmp_ / "dst"}, s3.Env());
  Exit e = InterruptWhenStalled(pid, s3, 1, SIGINT);
  EXPECT_EQ(e.code, 130) << Err();
  EXPECT_LT(e.seconds, 1.0) << Err();
  EXPECT_NE(Err().find("interrupted by SIGINT; rerun to resume"), std::string::npos) << Err();
  // Cancelled files are not listed as errors one by one.
  EXPECT_EQ(Err().find("CANCELLED"), std::string::npos) << Err();
  EXPECT_TRUE(VisibleFiles(tmp_ / "dst").empty()) << "a torn file is visible";

  // The rerun completes the copy.
  s3.stall_gets = false;
  s3.Release();
  auto again = Dc({"-q", "sync", "s3://bucket/p/", tmp_ / "dst"}, s3.Env());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(ReadFile(tmp_ / "dst/big.bin"), big);
}

TEST_F(CliHostileTest, SigtermStopsARunAndAnHfDownloadStalledOnTheNetwork) {
  HostileS3 s3;
  s3.Put("p/a.bin", std::string(1000, 'a'));
  s3.stall_all = true;
  {
    int pid =
        Spawn({"--progress", "none", "hf", "download", "org/model", "--local-dir", tmp_ / "hf"},
              s3.Env());
    Exit e = InterruptWhenStalled(pid, s3, 1, SIGTERM);
    EXPECT_EQ(e.code, 143) << Err();
    EXPECT_LT(e.seconds, 1.0) << Err();
    EXPECT_NE(Err().find("interrupted by SIGTERM; rerun to resume"), std::string::npos) << Err();
    EXPECT_TRUE(VisibleFiles(tmp_ / "hf").empty());
  }
  fs::create_directories(tmp_ / "secrets/s3");
  WriteFile(tmp_ / "secrets/s3/endpoint", s3.url());
  WriteFile(tmp_ / "secrets/s3/id", "AKIDTEST");
  WriteFile(tmp_ / "secrets/s3/secret", "secretsecret");
  fs::create_directories(tmp_ / "pvcs/vol");
  WriteFile(tmp_ / "cube.yaml",
            "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: stall}\n"
            "spec:\n  source:\n    type: s3\n    options:\n"
            "    - {name: s3-endpoint, valueFrom: {secretKeyRef: {name: s3, key: endpoint}}}\n"
            "    - {name: s3-access-key-id, valueFrom: {secretKeyRef: {name: s3, key: id}}}\n"
            "    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: s3, key: "
            "secret}}}\n"
            "    - {name: s3-uri, value: \"s3://bucket/p/\"}\n"
            "  sink: {type: pvc, pvc: {name: vol}}\n");
  int before = s3.stalled.load();
  int pid =
      Spawn({"--progress", "none", "run", "-f", tmp_ / "cube.yaml", "--pvc-root", tmp_ / "pvcs",
             "--secrets-dir", tmp_ / "secrets", "--status-file", tmp_ / "status.yaml"},
            {});
  Exit e = InterruptWhenStalled(pid, s3, before + 1, SIGTERM);
  EXPECT_EQ(e.code, 143) << Err();
  EXPECT_LT(e.seconds, 1.0) << Err();
  EXPECT_NE(Err().find("interrupted by SIGTERM; rerun to resume"), std::string::npos) << Err();
  std::string status = ReadFile(tmp_ / "status.yaml");
  EXPECT_NE(status.find("phase: Failed"), std::string::npos) << status;
  EXPECT_NE(status.find("Interrupted"), std::string::npos) << status;
  EXPECT_TRUE(VisibleFiles(tmp_ / "pvcs/vol").empty());
}

// --- Names that carry control characters ---------------------------------------------------

constexpr const char* kFakeLogLine = "p/evil\nerror: all files verified";
constexpr const char* kTerminalEscape = "p/\x1b[2J\x1b]0;owned\x07.bin";
constexpr const char* kNotUtf8 = "p/latin1-\xe9t\xe9.bin";

// Every line of `text` that contains `needle`.
std::vector<std::string> LinesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.find(needle) != std::string::npos) out.push_back(line);
    start = end + 1;
  }
  return out;
}

bool HasRawControl(const std::string& text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n') || c == 0x7f) return true;
  }
  return false;
}

TEST_F(CliHostileTest, LsOfRemoteKeysWithControlCharactersPrintsOneEscapedLineEach) {
  HostileS3 s3;
  s3.Put(kFakeLogLine, "1");
  s3.Put(kTerminalEscape, "22");
  s3.Put(kNotUtf8, "333");
  s3.Put("p/plain.txt", "4444");
  auto ls = Dc({"ls", "s3://bucket/p/"}, s3.Env());
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_FALSE(HasRawControl(ls.out)) << ls.out;
  EXPECT_EQ(LinesWith(ls.out, "  ").size(), 4u) << ls.out;
  EXPECT_NE(ls.out.find("evil\\nerror: all files verified\n"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\\x1b[2J\\x1b]0;owned\\x07.bin"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("latin1-\\xe9t\\xe9.bin"), std::string::npos) << ls.out;
  EXPECT_EQ(LinesWith(ls.out, "error:").size(), 1u);  // only inside the escaped name

  // JSON lines stay JSON: control characters as \u escapes, the exact name comes back.
  auto json = Dc({"ls", "--json", "s3://bucket/p/"}, s3.Env());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::vector<std::string> paths;
  for (const auto& line : LinesWith(json.out, "{")) {
    paths.push_back(nlohmann::json::parse(line)["path"].get<std::string>());
  }
  ASSERT_EQ(paths.size(), 4u) << json.out;
  EXPECT_NE(std::find(paths.begin(), paths.end(), "evil\nerror: all files verified"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "\x1b[2J\x1b]0;owned\x07.bin"), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "latin1-\xef\xbf\xbdt\xef\xbf\xbd.bin"),
            paths.end());
}

TEST_F(CliHostileTest, CopyingKeysWithControlCharactersLogsEscapedWarningsOnly) {
  HostileS3 s3;
  s3.Put(kFakeLogLine, "1");
  s3.Put(kTerminalEscape, "22");
  s3.Put("p/plain.txt", "4444");
  for (const char* format : {"text", "json"}) {
    auto r = Dc({"--log-format", format, "--progress", "json", "cp", "s3://bucket/p/",
                 tmp_ / (std::string("dst-") + format)},
                s3.Env());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(HasRawControl(r.err)) << r.err;
    EXPECT_TRUE(LinesWith(r.err, "error: all files verified").size() <= 1) << r.err;
    for (const auto& line : LinesWith(r.err, "all files verified")) {
      EXPECT_NE(line.find("evil\\"), std::string::npos) << line;
    }
    if (std::string(format) == "text") {
      // The refusal names the key with hexadecimal escapes (ESC is \x1b, not its decimal 27).
      EXPECT_NE(r.err.find("\\x1b[2J\\x1b]0;owned\\x07.bin"), std::string::npos) << r.err;
      EXPECT_EQ(r.err.find("\\x27"), std::string::npos) << r.err;
    }
    if (std::string(format) == "json") {
      for (const auto& line : LinesWith(r.err, "{")) {
        EXPECT_NO_THROW(nlohmann::json::parse(line)) << line;
      }
    }
    EXPECT_EQ(VisibleFiles(tmp_ / (std::string("dst-") + format)),
              std::vector<std::string>{"plain.txt"});
  }
}

TEST_F(CliHostileTest, LocalFileNamesWithNewlinesAndEscapesAreEscapedInLsAndLogs) {
  fs::create_directories(tmp_ / "src");
  WriteFile(tmp_ / "src/ok.txt", "ok");
  WriteFile(tmp_ / "src/two\nlines.txt", "x");
  WriteFile(tmp_ / "src/\x1b[31mred.txt", "y");
  auto ls = Dc({"ls", tmp_ / "src"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_FALSE(HasRawControl(ls.out)) << ls.out;
  EXPECT_NE(ls.out.find("two\\nlines.txt"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("\\x1b[31mred.txt"), std::string::npos) << ls.out;
  EXPECT_EQ(LinesWith(ls.out, ".txt").size(), 3u) << ls.out;

  // A local destination refuses such names (with a warning that is itself one escaped line);
  // the dry run lists what it would copy, escaped.
  auto cp = Dc({"--progress", "none", "cp", tmp_ / "src", tmp_ / "dst"});
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_FALSE(HasRawControl(cp.err)) << cp.err;
  EXPECT_EQ(LinesWith(cp.err, "lines.txt").size(), 1u) << cp.err;
  HostileS3 s3;
  auto dry =
      Dc({"--progress", "none", "cp", "--dry-run", tmp_ / "src", "s3://bucket/x/"}, s3.Env());
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_FALSE(HasRawControl(dry.out)) << dry.out;
  EXPECT_NE(dry.out.find("would-copy two\\nlines.txt\n"), std::string::npos) << dry.out;
  EXPECT_EQ(LinesWith(dry.out, "would-copy").size(), 3u) << dry.out;
}

// --- A source that has both "a" and "a/b" --------------------------------------------------

TEST_F(CliHostileTest, FileAndDirectoryOfTheSameNameIsAPlannedFailureOfThatKey) {
  HostileS3 s3;
  s3.Put("q/a", "file a");
  s3.Put("q/a/b", "file a/b");
  s3.Put("q/c", "file c");
  auto r = Dc({"--progress", "none", "cp", "s3://bucket/q/", tmp_ / "dst"}, s3.Env());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("failed 1"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("failed 0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the source also has \"a/b\""), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("Is a directory"), std::string::npos) << r.err;
  EXPECT_EQ(ReadFile(tmp_ / "dst/a/b"), "file a/b");
  EXPECT_EQ(ReadFile(tmp_ / "dst/c"), "file c");
  EXPECT_EQ(VisibleFiles(tmp_ / "dst"), (std::vector<std::string>{"a/b", "c"}));
  // sync --delete deletes nothing when a file failed.
  WriteFile(tmp_ / "dst/extra", "keep");
  auto s = Dc({"--progress", "none", "sync", "--delete", "s3://bucket/q/", tmp_ / "dst"}, s3.Env());
  EXPECT_EQ(s.exit_code, 1) << s.err;
  EXPECT_TRUE(Exists(tmp_ / "dst/extra"));
}

// --- Redirects and malformed answers -------------------------------------------------------

TEST_F(CliHostileTest, RedirectToFileUrlIsRefusedAndNothingIsRead) {
  HostileS3 s3;
  s3.Put("r/x.bin", "payload");
  s3.redirect_to = "file:///etc/passwd";
  auto r = Dc({"--progress", "none", "cp", s3.url() + "/bucket/r/x.bin", tmp_ / "out.bin"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("refused redirect to file:///etc/passwd"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("HTTP 0"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(tmp_ / "out.bin"));
  EXPECT_EQ(r.out.find("root:"), std::string::npos);
}

TEST_F(CliHostileTest, MalformedListingIsNotReportedAsAChecksumMismatch) {
  HostileS3 s3;
  s3.Put("m/a.bin", "data");
  s3.malformed_list = true;
  fs::create_directories(tmp_ / "secrets/s3");
  WriteFile(tmp_ / "secrets/s3/endpoint", s3.url());
  WriteFile(tmp_ / "secrets/s3/id", "AKIDTEST");
  WriteFile(tmp_ / "secrets/s3/secret", "secretsecret");
  fs::create_directories(tmp_ / "pvcs/vol");
  WriteFile(tmp_ / "cube.yaml",
            "apiVersion: tensorstack.dev/v1beta1\nkind: DataCube\nmetadata: {name: bad}\n"
            "spec:\n  source:\n    type: s3\n    options:\n"
            "    - {name: s3-endpoint, valueFrom: {secretKeyRef: {name: s3, key: endpoint}}}\n"
            "    - {name: s3-access-key-id, valueFrom: {secretKeyRef: {name: s3, key: id}}}\n"
            "    - {name: s3-secret-access-key, valueFrom: {secretKeyRef: {name: s3, key: "
            "secret}}}\n"
            "    - {name: s3-uri, value: \"s3://bucket/m/\"}\n"
            "  sink: {type: pvc, pvc: {name: vol}}\n"
            "  executor: {options: {extraArgs: [--retries, \"1\"]}}\n");
  auto r = Dc({"--progress", "none", "run", "-f", tmp_ / "cube.yaml", "--pvc-root", tmp_ / "pvcs",
               "--secrets-dir", tmp_ / "secrets", "--status-file", tmp_ / "status.yaml"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::string status = ReadFile(tmp_ / "status.yaml");
  EXPECT_EQ(status.find("ChecksumMismatch"), std::string::npos) << status;
  EXPECT_NE(status.find("MalformedResponse"), std::string::npos) << status;
  EXPECT_TRUE(VisibleFiles(tmp_ / "pvcs/vol").empty());
}

// --- Numeric flags -------------------------------------------------------------------------

TEST_F(CliHostileTest, NegativeAndOverflowingNumbersAreRefusedByFlagName) {
  WriteFile(tmp_ / "f.txt", "0123456789");
  fs::create_directories(tmp_ / "m");
  WriteFile(tmp_ / "m.jsonl", "");
  struct Case {
    std::vector<std::string> args;
    std::string flag;
  };
  const std::string f = tmp_ / "f.txt";
  const std::string d = tmp_ / "d";
  std::vector<Case> cases = {
      {{"cat", f, "--offset", "-1"}, "--offset"},
      {{"cat", f, "--offset", "18446744073709551615"}, "--offset"},
      {{"cat", f, "--count", "-5"}, "--count"},
      {{"cat", f, "--offset", "1x"}, "--offset"},
      {{"cp", f, d, "--jobs", "-1"}, "--jobs"},
      {{"cp", f, d, "--jobs", "4abc"}, "--jobs"},
      {{"cp", f, d, "--jobs", "99999999999999999999999"}, "--jobs"},
      {{"cp", f, d, "--part-size", "-8M"}, "--part-size"},
      {{"cp", f, d, "--part-size", "99999999999999999999999"}, "--part-size"},
      {{"cp", f, d, "--bwlimit", "-1"}, "--bwlimit"},
      {{"presign", "s3://bucket/k", "--expires", "100000000h"}, "--expires"},
      {{"manifest", tmp_ / "m", "--jobs", "-1"}, "--jobs"},
      {{"verify", tmp_ / "m", "--manifest", tmp_ / "m.jsonl", "--jobs", "x"}, "--jobs"},
  };
  for (const auto& c : cases) {
    auto r = Dc(c.args, {{"AWS_ACCESS_KEY_ID", "AKIDTEST"},
                         {"AWS_SECRET_ACCESS_KEY", "secret"},
                         {"AWS_REGION", "us-east-1"}});
    EXPECT_EQ(r.exit_code, 2) << c.args[0] << " " << c.flag << ": " << r.err;
    EXPECT_NE(r.err.find(c.flag), std::string::npos) << r.err;
    if (c.args.back() == "-1") {
      EXPECT_EQ(r.err.find("18446744073709551615"), std::string::npos) << r.err;
    }
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_FALSE(Exists(d));
  }
  auto ok = Dc({"cat", f, "--offset", "2", "--count", "3"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "234");
}

}  // namespace
}  // namespace datacube::testing
