// The git source and sink against a real server: nginx + git http-backend over HTTPS with basic
// auth, and the LFS fixture (testing/servers/git.sh): clone, update, refs, shallow clones, LFS
// verification and repair, push, token hygiene, retries and time limits, cancellation, proxies,
// TLS trust, and clones someone else prepared (docs/git.md).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "datacube/base/log.h"
#include "datacube/base/secret.h"
#include "datacube/crypto/sha256.h"
#include "datacube/git/git_test_util.h"
#include "datacube/git/git_transfer.h"

namespace datacube::git {
namespace {

using namespace std::chrono_literals;
using testing::FixtureRepo;
using testing::GitServer;
using testing::Sh;
namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

class GitServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::ServerFromEnv();
    if (!s) {
      const char* req = std::getenv("DATACUBE_REQUIRE_SERVERS");
      if (req && std::string(req) == "1") {
        FAIL() << "git test server not configured (DATACUBE_TEST_GIT_* from "
                  "testing/servers/git.sh)";
      }
      GTEST_SKIP() << "git test server not running (testing/servers/git.sh start DIR)";
    }
    server_ = *s;
    char tmpl[] = "/tmp/dc-git-test-XXXXXX";
    work_ = ::mkdtemp(tmpl);
    static int counter = 0;
    name_ = "t" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    repo_ = testing::CreateFixtureRepository(server_, name_);
  }
  void TearDown() override {
    if (!work_.empty()) fs::remove_all(work_);
  }
  GitSourceOptions Source() { return testing::SourceOptions(server_, name_); }
  GitSinkOptions Sink() {
    GitSinkOptions o;
    static_cast<GitCommonOptions&>(o) = Source();
    return o;
  }
  std::string Git(const std::string& dir, const std::string& args) {
    return Sh("git -C '" + dir + "' " + args);
  }
  void ExpectNoToken(const std::string& dir) {
    EXPECT_TRUE(testing::FilesContaining(dir, server_.token).empty())
        << "token found in " << testing::FilesContaining(dir, server_.token)[0];
  }

  GitServer server_;
  FixtureRepo repo_;
  std::string name_;
  std::string work_;
};

TEST_F(GitServerTest, DefaultRefFallsBackToTheDefaultBranchAndVerifiesLfs) {
  std::string dir = work_ + "/clone";
  auto r = CloneOrUpdate(Source(), dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->cloned);
  EXPECT_TRUE(r->fell_back);
  EXPECT_EQ(r->kind, RefKind::kBranch);
  EXPECT_EQ(r->ref_name, "main");
  EXPECT_EQ(r->commit, repo_.c2);
  EXPECT_NE(r->message.find("\"master\" does not exist"), std::string::npos) << r->message;
  EXPECT_EQ(ReadAll(dir + "/README"), "v2\n");
  EXPECT_EQ(ReadAll(dir + "/weights.bin"), repo_.weights);
  ASSERT_EQ(r->lfs_files.size(), 1u);
  EXPECT_EQ(r->lfs_files[0].path, "weights.bin");
  EXPECT_EQ(r->lfs_files[0].sha256, repo_.weights_oid);
  EXPECT_EQ(r->lfs_bytes, repo_.weights.size());
  EXPECT_EQ(Git(dir, "symbolic-ref --short HEAD"), "main");
  EXPECT_EQ(Git(dir, "rev-parse --abbrev-ref main@{upstream}"), "origin/main");
  EXPECT_EQ(Git(dir, "config --get remote.origin.url"), server_.url + "/" + name_ + ".git");
  EXPECT_EQ(r->url.find(server_.token), std::string::npos);
  ExpectNoToken(dir);
}

TEST_F(GitServerTest, ExampleUrlWithEmbeddedTokenAndNoTokenOption) {
  GitSourceOptions o = Source();
  o.url = "https://" + server_.token + "@" + server_.host + "/" + name_ + ".git";
  o.token.clear();
  o.ref = "main";
  std::string dir = work_ + "/clone";
  auto r = CloneOrUpdate(o, dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->fell_back);
  EXPECT_EQ(Git(dir, "config --get remote.origin.url"), server_.url + "/" + name_ + ".git");
  ExpectNoToken(dir);
}

TEST_F(GitServerTest, BranchTagAndCommit) {
  GitSourceOptions o = Source();
  o.ref = "dev";
  auto b = CloneOrUpdate(o, work_ + "/branch");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->commit, repo_.dev);
  EXPECT_EQ(ReadAll(work_ + "/branch/dev.txt"), "dev\n");

  o.ref = "v1";
  auto t = CloneOrUpdate(o, work_ + "/tag");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->kind, RefKind::kTag);
  EXPECT_EQ(t->commit, repo_.c1);
  EXPECT_EQ(ReadAll(work_ + "/tag/README"), "v1\n");
  EXPECT_EQ(ReadAll(work_ + "/tag/weights.bin"), repo_.weights);

  o.ref = repo_.c1;
  auto c = CloneOrUpdate(o, work_ + "/commit");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, RefKind::kCommit);
  EXPECT_EQ(Git(work_ + "/commit", "rev-parse HEAD"), repo_.c1);

  o.ref = repo_.dev.substr(0, 10);  // abbreviated
  auto a = CloneOrUpdate(o, work_ + "/abbrev");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->commit, repo_.dev);

  o.ref = "no-such-ref";
  auto missing = CloneOrUpdate(o, work_ + "/missing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("branches: dev, main"), std::string::npos);
}

TEST_F(GitServerTest, RerunFetchesAndChecksOut) {
  GitSourceOptions o = Source();
  o.ref = "main";
  std::string dir = work_ + "/clone";
  ASSERT_TRUE(CloneOrUpdate(o, dir).ok());
  std::string c3 = testing::CommitToBare(repo_.bare, "main", "v3");
  auto again = CloneOrUpdate(o, dir);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->cloned);
  EXPECT_EQ(again->commit, c3);
  EXPECT_EQ(ReadAll(dir + "/README"), "v3\n");
  EXPECT_NE(again->message.find("updated"), std::string::npos);
  // Same clone, another ref.
  o.ref = "v1";
  auto tag = CloneOrUpdate(o, dir);
  ASSERT_TRUE(tag.ok()) << tag.status().ToString();
  EXPECT_EQ(ReadAll(dir + "/README"), "v1\n");
  EXPECT_EQ(ReadAll(dir + "/weights.bin"), repo_.weights);
  // Local edits are never overwritten.
  std::ofstream(dir + "/README") << "mine\n";
  auto dirty = CloneOrUpdate(o, dir);
  EXPECT_EQ(dirty.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(dirty.status().message().find("local changes"), std::string::npos);
  // A directory that is not a clone of this repository is refused.
  fs::create_directories(work_ + "/other");
  std::ofstream(work_ + "/other/file") << "x";
  EXPECT_EQ(CloneOrUpdate(o, work_ + "/other").status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(GitServerTest, ShallowClone) {
  GitSourceOptions o = Source();
  o.ref = "main";
  o.depth = 1;
  std::string dir = work_ + "/clone";
  auto r = CloneOrUpdate(o, dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->shallow);
  EXPECT_EQ(Git(dir, "rev-parse --is-shallow-repository"), "true");
  EXPECT_EQ(Git(dir, "rev-list --count HEAD"), "1");
  EXPECT_EQ(ReadAll(dir + "/weights.bin"), repo_.weights);
  // A later full run deepens it.
  o.depth = 0;
  auto full = CloneOrUpdate(o, dir);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_FALSE(full->shallow);
  EXPECT_EQ(Git(dir, "rev-list --count HEAD"), "2");
}

TEST_F(GitServerTest, CorruptLfsObjectOnTheServerIsDetected) {
  std::string obj = server_.lfs_root + "/" + name_ + ".git/" + repo_.weights_oid.substr(0, 2) +
                    "/" + repo_.weights_oid;
  std::string bad = repo_.weights;
  bad[1000] ^= 0x55;
  std::ofstream(obj, std::ios::binary) << bad;
  GitSourceOptions o = Source();
  o.retry.max_attempts = 2;
  auto r = CloneOrUpdate(o, work_ + "/clone");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << r.status().ToString();
  EXPECT_NE(r.status().message().find("LFS"), std::string::npos);
  EXPECT_EQ(r.status().message().find(server_.token), std::string::npos);
  EXPECT_NE(ReadAll(work_ + "/clone/weights.bin"), bad);  // never left as if it were good
}

TEST_F(GitServerTest, CorruptLocalLfsObjectIsCaughtAndRepaired) {
  // A branch without weights.bin, so that a later checkout of main takes the file from the
  // local LFS store again.
  Sh("cd '" + work_ + "' && git clone -q '" + repo_.bare +
     "' upstream && cd upstream && "
     "git checkout -qb nolfs && git rm -q weights.bin && git commit -qm rm && "
     "git push -q origin nolfs");
  GitSourceOptions o = Source();
  o.ref = "main";
  std::string dir = work_ + "/clone";
  ASSERT_TRUE(CloneOrUpdate(o, dir).ok());
  o.ref = "nolfs";
  ASSERT_TRUE(CloneOrUpdate(o, dir).ok());
  ASSERT_FALSE(fs::exists(dir + "/weights.bin"));
  // Bit rot in the local store: same size, one byte changed.
  std::string obj = dir + "/.git/lfs/objects/" + repo_.weights_oid.substr(0, 2) + "/" +
                    repo_.weights_oid.substr(2, 2) + "/" + repo_.weights_oid;
  ASSERT_TRUE(fs::exists(obj));
  std::string bad = repo_.weights;
  bad[5] ^= 1;
  std::ofstream(obj, std::ios::binary | std::ios::trunc) << bad;
  o.ref = "main";
  auto r = CloneOrUpdate(o, dir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(dir + "/weights.bin"), repo_.weights);
  EXPECT_EQ(ReadAll(obj), repo_.weights);
}

TEST_F(GitServerTest, PushNewCommitWithLfsFromTheExampleLayout) {
  GitSourceOptions o = Source();
  o.ref = "main";
  std::string parent = work_ + "/pvc/dev/git";
  auto dir = RepoDirIn(parent, o.url);
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(CloneOrUpdate(o, *dir).ok());
  // The user commits in the volume (the clone has git-lfs enabled for *.bin).
  std::string big(200000, 'q');
  std::ofstream(*dir + "/new.bin", std::ios::binary) << big;
  std::ofstream(*dir + "/notes.txt") << "hello\n";
  Sh("cd '" + *dir + "' && git add new.bin notes.txt && git commit -qm 'add files'");
  std::string head = Git(*dir, "rev-parse HEAD");
  auto p = PushRepository(Sink(), parent);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->repo_dir, *dir);
  EXPECT_EQ(p->branch, "main");
  EXPECT_EQ(p->commit, head);
  EXPECT_FALSE(p->up_to_date);
  EXPECT_EQ(Sh("git -C '" + repo_.bare + "' rev-parse main"), head);
  std::string oid = crypto::Sha256Hex(big);
  EXPECT_EQ(ReadAll(server_.lfs_root + "/" + name_ + ".git/" + oid.substr(0, 2) + "/" + oid), big);
  // Pushing again is a no-op.
  auto again = PushRepository(Sink(), *dir);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->up_to_date);
  ExpectNoToken(*dir);
}

TEST_F(GitServerTest, RejectedPushQuotesTheServer) {
  GitSourceOptions o = Source();
  o.ref = "main";
  std::string dir = work_ + "/clone";
  ASSERT_TRUE(CloneOrUpdate(o, dir).ok());
  std::string hook = repo_.bare + "/hooks/pre-receive";
  std::ofstream(hook) << "#!/bin/sh\necho 'branch main is protected: pushes are not allowed'\n"
                         "exit 1\n";
  fs::permissions(hook, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read |
                            fs::perms::group_exec | fs::perms::others_exec);
  Sh("cd '" + dir + "' && echo x > x.txt && git add x.txt && git commit -qm x");
  auto p = PushRepository(Sink(), dir);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(p.status().message().find("branch main is protected: pushes are not allowed"),
            std::string::npos)
      << p.status().message();
  fs::remove(hook);

  // Non-fast-forward: someone else pushed first.
  testing::CommitToBare(repo_.bare, "main", "theirs");
  auto nff = PushRepository(Sink(), dir);
  ASSERT_FALSE(nff.ok());
  EXPECT_EQ(nff.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(nff.status().message().find("rejected"), std::string::npos) << nff.status().message();
}

TEST_F(GitServerTest, TokenAppearsNowhere) {
  // Every process's argv is scanned while a clone (with LFS), an update and a push run; the logs
  // (debug level, git's own stderr included) go to a file that is checked too.
  std::string log_path = work_ + "/log.txt";
  int saved = ::dup(2);
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(fd, 2);
  ::close(fd);
  LogConfig old = GetLogConfig();
  SetLogConfig({LogLevel::kDebug, LogFormat::kText});

  std::vector<pid_t> children;
  std::vector<std::string> child_argv;
  GitSourceOptions o = Source();
  o.url = "https://" + server_.token + "@" + server_.host + "/" + name_ + ".git";
  o.ref = "main";
  o.on_child_start = [&](pid_t pid) {
    children.push_back(pid);
    child_argv.push_back(ReadAll("/proc/" + std::to_string(pid) + "/cmdline"));
  };
  std::string dir = work_ + "/clone";
  testing::ArgvScanner scanner(server_.token);
  auto clone = CloneOrUpdate(o, dir);
  auto update = CloneOrUpdate(o, dir);
  Sh("cd '" + dir + "' && echo y > y.txt && git add y.txt && git commit -qm y");
  GitSinkOptions sink;
  static_cast<GitCommonOptions&>(sink) = o;
  auto push = PushRepository(sink, dir);
  GitSourceOptions wrong = o;
  wrong.ref = "no-such-ref";
  auto error = CloneOrUpdate(wrong, dir);
  scanner.Stop();

  SetLogConfig(old);
  ::dup2(saved, 2);
  ::close(saved);
  ASSERT_TRUE(clone.ok()) << clone.status().ToString();
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  ASSERT_TRUE(push.ok()) << push.status().ToString();
  ASSERT_FALSE(error.ok());

  EXPECT_TRUE(scanner.hits().empty()) << "token in argv: " << scanner.hits()[0];
  EXPECT_GT(scanner.git_processes_seen(), 5u);  // the scanner did see the git children
  EXPECT_GT(children.size(), 10u);
  for (const auto& a : child_argv) EXPECT_EQ(a.find(server_.token), std::string::npos) << a;
  ExpectNoToken(dir);  // .git/config, stored remote, reflogs, LFS logs, work tree
  std::string log = ReadAll(log_path);
  EXPECT_NE(log.find("git"), std::string::npos);
  EXPECT_EQ(log.find(server_.token), std::string::npos);
  for (const std::string& text :
       {clone->message, update->message, push->message, std::string(error.status().message())}) {
    EXPECT_EQ(text.find(server_.token), std::string::npos) << text;
  }
}

TEST_F(GitServerTest, WrongTokenFailsFastWithoutRetryStorm) {
  GitSourceOptions o = Source();
  o.token = "wrong-token-for-test-1";
  size_t log_start = testing::FileSize(server_.access_log);
  auto start = std::chrono::steady_clock::now();
  auto r = CloneOrUpdate(o, work_ + "/clone");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("authentication failed for " + server_.host),
            std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.status().message().find("wrong-token-for-test-1"), std::string::npos);
  EXPECT_LT(elapsed, 5s);
  ::usleep(100'000);  // nginx writes its access log line after the response
  // git asks once without credentials (401), once with the wrong token (401), and stops.
  size_t refused = testing::CountLogLines(server_.access_log, log_start, "\" 401 ", name_);
  EXPECT_GE(refused, 1u);
  EXPECT_LE(refused, 3u);

  // Push with a wrong token: same.
  GitSourceOptions good = Source();
  good.ref = "main";
  ASSERT_TRUE(CloneOrUpdate(good, work_ + "/ok").ok());
  GitSinkOptions sink = Sink();
  sink.token = "wrong-token-for-test-1";
  size_t push_start = testing::FileSize(server_.access_log);
  auto push_began = std::chrono::steady_clock::now();
  auto p = PushRepository(sink, work_ + "/ok");
  EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated) << p.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - push_began, 5s);
  ::usleep(100'000);
  // git-lfs alone would resubmit the refused token forever; the helper stops it.
  EXPECT_LE(testing::CountLogLines(server_.access_log, push_start, "\" 401 ", name_), 4u);
}

// A TCP listener that never accepts: connections complete in the kernel and then hear nothing,
// like a host behind a black-holing firewall.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(GitServerTest, UnreachableHostFailsAfterTheStallTimeout) {
  SilentListener silent;
  GitSourceOptions o = Source();
  o.url = "https://127.0.0.1:" + std::to_string(silent.port()) + "/o/r.git";
  o.stall_timeout = 2s;
  o.retry.max_attempts = 2;
  auto start = std::chrono::steady_clock::now();
  auto r = CloneOrUpdate(o, work_ + "/clone");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_NE(r.status().message().find("no response or progress from 127.0.0.1:"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("all 2 attempts failed"), std::string::npos);
  EXPECT_GE(elapsed, 4s);
  EXPECT_LT(elapsed, 12s);
}

TEST_F(GitServerTest, CancellationKillsTheGitChildren) {
  SilentListener silent;
  GitSourceOptions o = Source();
  o.url = "https://127.0.0.1:" + std::to_string(silent.port()) + "/o/r.git";
  std::stop_source stop;
  o.stop = stop.get_token();
  std::vector<pid_t> pids;
  o.on_child_start = [&](pid_t p) { pids.push_back(p); };
  std::jthread canceller([&] {
    std::this_thread::sleep_for(700ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = CloneOrUpdate(o, work_ + "/clone");
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_FALSE(pids.empty());
  // git and git-remote-https (same process group as the git we started) are gone.
  for (pid_t p : pids) {
    std::string stat = ReadAll("/proc/" + std::to_string(p) + "/stat");
    EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
  }
  EXPECT_EQ(Sh("ps -eo pgid=,stat=,args= | awk '$1==" + std::to_string(pids.back()) +
               " && $2 !~ /Z/' | wc -l"),
            "0");
}

// An HTTP CONNECT proxy on loopback that records the targets it was asked for.
class ConnectProxy {
 public:
  ConnectProxy() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Accept(); });
  }
  ~ConnectProxy() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& t : relays_) t.join();
  }
  int port() const { return port_; }
  std::vector<std::string> targets() {
    std::lock_guard<std::mutex> l(mu_);
    return targets_;
  }

 private:
  void Accept() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      relays_.emplace_back([this, c] { Relay(c); });
    }
  }
  void Relay(int c) {
    std::string head;
    char buf[16384];
    while (head.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) return (void)::close(c);
      head.append(buf, n);
    }
    std::string target = head.substr(8, head.find(' ', 8) - 8);  // "CONNECT host:port HTTP/1.1"
    {
      std::lock_guard<std::mutex> l(mu_);
      targets_.push_back(target);
    }
    int port = std::stoi(target.substr(target.rfind(':') + 1));
    int u = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(u);
      return (void)::close(c);
    }
    std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
    ::write(c, ok.data(), ok.size());
    pollfd fds[2] = {{c, POLLIN, 0}, {u, POLLIN, 0}};
    while (::poll(fds, 2, 10'000) > 0) {
      int from = (fds[0].revents != 0) ? 0 : 1;
      ssize_t n = ::read(fds[from].fd, buf, sizeof buf);
      if (n <= 0 || ::write(fds[1 - from].fd, buf, n) != n) break;
    }
    ::close(u);
    ::close(c);
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<std::thread> relays_;
  std::mutex mu_;
  std::vector<std::string> targets_;
};

TEST_F(GitServerTest, ProxyFromTheTransferEnvironment) {
  ConnectProxy proxy;
  GitSourceOptions o = Source();
  o.ref = "main";
  o.lfs = false;  // git-lfs (Go) never proxies loopback addresses
  auto base_env = o.getenv;
  std::string proxy_url = "http://127.0.0.1:" + std::to_string(proxy.port());
  o.getenv = [&](const std::string& n) -> std::optional<std::string> {
    if (n == "https_proxy" || n == "HTTPS_PROXY") return proxy_url;
    return base_env(n);
  };
  auto r = CloneOrUpdate(o, work_ + "/clone");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(work_ + "/clone/README"), "v2\n");
  auto targets = proxy.targets();
  ASSERT_FALSE(targets.empty());
  EXPECT_EQ(targets[0], server_.host);
}

TEST_F(GitServerTest, MissingRepositoryIsNotFound) {
  GitSourceOptions o = Source();
  o.url = server_.url + "/does-not-exist.git";
  auto r = CloneOrUpdate(o, work_ + "/clone");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << r.status().ToString();
}

TEST_F(GitServerTest, UntrustedCertificateIsAClearError) {
  GitSourceOptions o = Source();
  o.ca_file.clear();
  auto r = CloneOrUpdate(o, work_ + "/clone");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not trusted"), std::string::npos);
}

// --- A clone in the volume prepared by someone else -------------------------------------------

// Polls /proc/*/environ of every process datacube's git children run as until stopped, and records
// those holding a needle (the token or one of its encodings).
class EnvironScanner {
 public:
  explicit EnvironScanner(std::vector<std::string> needles) : needles_(std::move(needles)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        try {
          std::error_code ec;
          fs::directory_iterator it("/proc", ec), end;
          for (; !ec && it != end; it.increment(ec)) {
            std::string pid = it->path().filename();
            if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
            if (pid == std::to_string(::getpid())) continue;  // the test itself knows the token
            std::string env = ReadAll("/proc/" + pid + "/environ");
            // Only what datacube started (and their children): the test's own processes know
            // the token from DATACUBE_TEST_GIT_TOKEN.
            if (env.find("GIT_CONFIG_GLOBAL=/dev/null") == std::string::npos) continue;
            ++git_children_;
            for (const auto& n : needles_) {
              if (env.find(n) != std::string::npos) {
                std::lock_guard<std::mutex> l(mu_);
                hits_.push_back(pid + ": " + ReadAll("/proc/" + pid + "/cmdline"));
              }
            }
          }
        } catch (const std::exception&) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    });
  }
  ~EnvironScanner() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> hits() {
    std::lock_guard<std::mutex> l(mu_);
    return hits_;
  }
  size_t git_children_seen() const { return git_children_; }

 private:
  std::vector<std::string> needles_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> git_children_{0};
  std::mutex mu_;
  std::vector<std::string> hits_;
  std::thread thread_;
};

class HostileCloneTest : public GitServerTest {
 protected:
  void SetUp() override {
    GitServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    marks_ = work_ + "/marks";
    fs::create_directories(marks_);
    // Wrappers first in PATH record the environment of every git and git-lfs process datacube
    // (or git itself) starts, then run the real program.
    wrappers_ = work_ + "/wrappers";
    fs::create_directories(wrappers_);
    for (const char* prog : {"git", "git-lfs"}) {
      std::string w = wrappers_ + "/" + prog;
      std::ofstream(w) << "#!/bin/sh\nenv > \"" << marks_ << "/env-" << prog
                       << ".$$\"\nexec /usr/bin/" << prog << " \"$@\"\n";
      fs::permissions(w, fs::perms::owner_all);
    }
    dir_ = work_ + "/clone";
    GitSourceOptions o = Options();
    auto first = CloneOrUpdate(o, dir_);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
  }
  GitSourceOptions Options() {
    GitSourceOptions o = Source();
    o.ref = "main";
    auto base = o.getenv;
    std::string path = wrappers_ + ":/usr/bin:/bin";
    o.getenv = [base, path](const std::string& n) -> std::optional<std::string> {
      if (n == "PATH") return path;
      return base(n);
    };
    return o;
  }
  // A program that leaves a marker (and its environment) when anything runs it.
  std::string Planted(const std::string& name) {
    std::string p = work_ + "/planted-" + name;
    std::ofstream(p) << "#!/bin/sh\ntouch \"" << marks_ << "/ran-" << name << "\"\nenv > \""
                     << marks_ << "/ran-" << name << ".env\"\ncat\n";
    fs::permissions(p, fs::perms::owner_all);
    return p;
  }
  std::vector<std::string> Ran() {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(marks_)) {
      std::string n = e.path().filename();
      if (n.rfind("ran-", 0) == 0) out.push_back(n);
    }
    return out;
  }
  // Every recorded environment of a git or git-lfs child.
  void ExpectNoTokenInRecordedEnvironments() {
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(marks_)) {
      std::string text = ReadAll(e.path());
      ++files;
      for (const auto& n : Needles()) {
        EXPECT_EQ(text.find(n), std::string::npos) << e.path() << " holds the token";
      }
    }
    EXPECT_GT(files, 3u);
  }
  std::vector<std::string> Needles() {
    return {server_.token, Base64ForRedaction("git:" + server_.token),
            Base64ForRedaction(server_.token)};
  }
  size_t Requests() { return testing::CountLogLines(server_.access_log, 0, "HTTP", name_); }
  void SetConfig(const std::string& key, const std::string& value) {
    Sh("git config --file '" + dir_ + "/.git/config' '" + key + "' '" + value + "'");
  }

  std::string marks_, wrappers_, dir_;
};

TEST_F(HostileCloneTest, PlantedHooksNeverRunOnFetchCheckoutAndPush) {
  for (const char* hook : {"post-checkout", "post-merge", "pre-commit", "post-commit",
                           "reference-transaction", "pre-push", "post-rewrite", "pre-auto-gc",
                           "post-index-change", "fsmonitor-watchman", "push-to-checkout"}) {
    std::string h = dir_ + "/.git/hooks/" + hook;
    fs::remove(h);
    fs::copy_file(Planted(hook), h);
  }
  std::string c3 = testing::CommitToBare(repo_.bare, "main", "v3");
  EnvironScanner scanner(Needles());
  auto update = CloneOrUpdate(Options(), dir_);
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->commit, c3);
  EXPECT_EQ(ReadAll(dir_ + "/README"), "v3\n");
  EXPECT_EQ(ReadAll(dir_ + "/weights.bin"), repo_.weights);
  Sh("cd '" + dir_ + "' && git -c core.hooksPath=/dev/null commit -q --allow-empty -m mine");
  GitSinkOptions sink;
  static_cast<GitCommonOptions&>(sink) = Options();
  auto push = PushRepository(sink, dir_);
  ASSERT_TRUE(push.ok()) << push.status().ToString();
  scanner.Stop();
  EXPECT_EQ(Ran(), std::vector<std::string>{});
  EXPECT_EQ(scanner.hits(), std::vector<std::string>{});
  EXPECT_GT(scanner.git_children_seen(), 0u);
  ExpectNoTokenInRecordedEnvironments();
  // git-lfs installed no hooks of its own over the planted ones either.
  EXPECT_NE(ReadAll(dir_ + "/.git/hooks/pre-push").find("ran-pre-push"), std::string::npos);
}

struct PlantedConfig {
  std::string name;
  std::vector<std::pair<std::string, std::string>> config;  // "%P" = the planted program
  std::string attributes;                                   // .git/info/attributes
};

TEST_F(HostileCloneTest, ConfigThatCouldRunAProgramIsRefusedBeforeGitRuns) {
  std::string url = server_.url + "/" + name_ + ".git";
  std::string include = work_ + "/included.config";
  std::string hooks = work_ + "/evil-hooks";
  fs::create_directories(hooks);
  fs::copy_file(Planted("hookspath"), hooks + "/post-checkout");
  std::vector<PlantedConfig> cases = {
      {"hookspath", {{"core.hooksPath", hooks}}, ""},
      {"fsmonitor", {{"core.fsmonitor", "%P"}}, ""},
      {"sshcommand", {{"core.sshCommand", "%P"}}, ""},
      {"filter-process",
       {{"filter.evil.process", "%P"}, {"filter.evil.required", "true"}},
       "* filter=evil\n"},
      {"filter-smudge",
       {{"filter.evil.smudge", "%P"}, {"filter.evil.clean", "%P"}},
       "* filter=evil\n"},
      {"insteadof", {{"url.ext::%P #.insteadOf", url}}, ""},
      {"include", {{"include.path", include}}, ""},
      {"textconv", {{"diff.evil.textconv", "%P"}}, "* diff=evil\n"},
      {"credential", {{"credential.helper", "!%P"}}, ""},
      {"lfs-transfer",
       {{"lfs.customtransfer.evil.path", "%P"}, {"lfs.standalonetransferagent", "evil"}},
       ""},
  };
  std::ofstream(include) << "[core]\n\tfsmonitor = " << Planted("include") << "\n";
  std::string before = ReadAll(dir_ + "/README");
  std::string config_before = ReadAll(dir_ + "/.git/config");
  testing::CommitToBare(repo_.bare, "main", "v3");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string program = Planted(c.name);
    std::string first_key;
    for (auto [k, v] : c.config) {
      for (std::string* s : {&k, &v}) {
        if (size_t at = s->find("%P"); at != std::string::npos) s->replace(at, 2, program);
      }
      if (first_key.empty()) first_key = k;
      SetConfig(k, v);
    }
    std::ofstream(dir_ + "/.git/info/attributes") << c.attributes;
    size_t requests = Requests();
    EnvironScanner scanner(Needles());
    auto r = CloneOrUpdate(Options(), dir_);
    GitSinkOptions sink;
    static_cast<GitCommonOptions&>(sink) = Options();
    auto p = PushRepository(sink, dir_);
    scanner.Stop();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
    std::string msg(r.status().message());
    EXPECT_NE(msg.find(dir_ + "/.git/config"), std::string::npos) << msg;
    std::string section = first_key.substr(0, first_key.find('.'));
    for (auto& ch : section) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(msg.find(section + "."), std::string::npos) << msg;
    EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition) << p.status().ToString();
    EXPECT_EQ(Ran(), std::vector<std::string>{});
    EXPECT_EQ(scanner.hits(), std::vector<std::string>{});
    ::usleep(100'000);  // nginx writes its access log line after the response
    EXPECT_EQ(Requests(), requests) << "a request reached the server";
    EXPECT_EQ(ReadAll(dir_ + "/README"), before);  // nothing was checked out
    std::ofstream(dir_ + "/.git/config", std::ios::trunc) << config_before;
    fs::remove(dir_ + "/.git/info/attributes");
  }
  // Cleaned up, the same clone updates again.
  auto r = CloneOrUpdate(Options(), dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAll(dir_ + "/README"), "v3\n");
  EXPECT_EQ(Ran(), std::vector<std::string>{});
  ExpectNoTokenInRecordedEnvironments();
}

TEST_F(HostileCloneTest, ALinkedGitDirectoryIsRefused) {
  fs::rename(dir_ + "/.git", work_ + "/elsewhere.git");
  std::ofstream(dir_ + "/.git") << "gitdir: " << work_ << "/elsewhere.git\n";
  size_t requests = Requests();
  auto r = CloneOrUpdate(Options(), dir_);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("not a directory"), std::string::npos);
  fs::remove(dir_ + "/.git");
  fs::create_directory_symlink(work_ + "/elsewhere.git", dir_ + "/.git");
  r = CloneOrUpdate(Options(), dir_);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("symbolic link"), std::string::npos);
  ::usleep(100'000);
  EXPECT_EQ(Requests(), requests);
}

TEST_F(HostileCloneTest, ATokenWithALineBreakIsRefusedBeforeAnythingIsSent) {
  size_t requests = Requests();
  for (const std::string& bad : {server_.token + "\r\nX-Injected: 1", std::string("a\rb-token"),
                                 std::string("tab\ttoken"), std::string("nul\0tok", 7)}) {
    GitSourceOptions o = Options();
    o.token = bad;
    auto r = CloneOrUpdate(o, work_ + "/new");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    std::string msg(r.status().message());
    EXPECT_NE(msg.find("token"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(server_.token), std::string::npos) << msg;
    EXPECT_EQ(msg.find("Injected"), std::string::npos) << msg;
  }
  // In the URL, percent-encoded.
  GitSourceOptions o = Options();
  o.token.clear();
  o.url = "https://tok%0D%0AX-Injected:%201@" + server_.host + "/" + name_ + ".git";
  auto r = CloneOrUpdate(o, work_ + "/new");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  ::usleep(100'000);
  EXPECT_EQ(Requests(), requests);
  EXPECT_FALSE(fs::exists(work_ + "/new/.git"));
}

TEST_F(HostileCloneTest, ServerEchoOfTheBasicCredentialsIsRedactedInTheLog) {
  // A pre-receive hook on the server prints what a hostile server could echo back: the
  // Authorization value (base64 of user:token). Each "remote:" line is logged at debug level.
  std::string hook = repo_.bare + "/hooks/pre-receive";
  std::string basic = Base64ForRedaction("git:" + server_.token);
  std::ofstream(hook) << "#!/bin/sh\necho 'Authorization: Basic " << basic << "'\necho '"
                      << Base64ForRedaction("{\"t\":\"" + server_.token + "\"}") << "'\nexit 0\n";
  fs::permissions(hook, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                            fs::perms::group_read | fs::perms::others_read);
  Sh("cd '" + dir_ + "' && git commit -q --allow-empty -m echo");
  std::string log_path = work_ + "/log.txt";
  int saved = ::dup(2);
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(fd, 2);
  ::close(fd);
  LogConfig old = GetLogConfig();
  SetLogConfig({LogLevel::kDebug, LogFormat::kText});
  GitSinkOptions sink;
  static_cast<GitCommonOptions&>(sink) = Options();
  auto p = PushRepository(sink, dir_);
  SetLogConfig(old);
  ::dup2(saved, 2);
  ::close(saved);
  fs::remove(hook);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  std::string log = ReadAll(log_path);
  EXPECT_NE(log.find("Authorization: Basic ***"), std::string::npos) << log;
  EXPECT_EQ(log.find(basic), std::string::npos) << log;
  EXPECT_EQ(log.find(server_.token), std::string::npos);
  EXPECT_EQ(log.find(Base64ForRedaction(server_.token).substr(0, 12)), std::string::npos);
}

TEST_F(HostileCloneTest, LfsEndpointsOutsideHttpsInLfsconfigAreRefused) {
  std::string outside = work_ + "/outside-lfs";
  fs::create_directories(outside);
  // The remote's own content points git-lfs at a local directory.
  std::string upstream = work_ + "/upstream";
  Sh("git clone -q '" + repo_.bare + "' '" + upstream + "' && cd '" + upstream +
     "' && git config --file .lfsconfig lfs.url 'file://" + outside +
     "' && git add .lfsconfig && git commit -qm lfsconfig && git push -q origin main");
  auto r = CloneOrUpdate(Options(), dir_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find(".lfsconfig sets lfs.url"), std::string::npos)
      << r.status().message();
  // The push side: a new LFS file with the same .lfsconfig is not written there either.
  std::ofstream(dir_ + "/more.bin", std::ios::binary) << std::string(1000, 'm');
  Sh("cd '" + dir_ + "' && git add more.bin && git commit -qm more");
  GitSinkOptions sink;
  static_cast<GitCommonOptions&>(sink) = Options();
  std::string before = Sh("git -C '" + repo_.bare + "' rev-parse main");
  auto p = PushRepository(sink, dir_);
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition) << p.status().ToString();
  EXPECT_EQ(Sh("git -C '" + repo_.bare + "' rev-parse main"), before);
  EXPECT_TRUE(fs::is_empty(outside));
}

}  // namespace
}  // namespace datacube::git
