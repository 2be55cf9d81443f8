// Crash, full disk and permission tests of the datacube binary: whatever happens, no torn file
// appears at a final path, errors name the path, and a rerun finishes the job.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "testing/test_util/test_util.h"

namespace datacube::testing {
namespace {

std::vector<std::string> DcArgs(std::vector<std::string> args) {
  args.insert(args.begin(), DatacubeBin());
  return args;
}

// Counts "part" lines in any journal of an in-progress copy below `dir`.
int JournalParts(const std::string& dir) {
  int parts = 0;
  for (const auto& f : ListFilesRecursive(dir)) {
    if (f.size() > 8 && f.substr(f.size() - 8) == ".journal") {
      std::string text = ReadFile(dir + "/" + f);
      for (size_t p = 0; (p = text.find("\npart ", p)) != std::string::npos; ++p) ++parts;
    }
  }
  return parts;
}

TEST(DurabilityTest, KillNineMidFileThenRerunResumes) {
  TempDir tmp;
  ::mkdir((tmp / "src").c_str(), 0755);
  const uint64_t kSize = 1ull << 30;
  const std::string sha = WriteRandomFile(tmp / "src/big.bin", kSize, 42);
  const std::string final_path = tmp / "dst/big.bin";

  // A watcher that checks the final path the whole time: it may be absent, or complete.
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, seen_complete{0};
  std::thread watcher([&] {
    while (!stop) {
      struct stat st;
      if (::stat(final_path.c_str(), &st) == 0) {
        if (static_cast<uint64_t>(st.st_size) != kSize)
          ++torn;
        else
          ++seen_complete;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  // First run, slowed down so it is surely mid-file when killed.
  int pid = SpawnCommand(DcArgs({"--progress", "none", "cp", tmp / "src", tmp / "dst", "--bwlimit",
                                 "150M", "--jobs", "4"}),
                         tmp / "run1.out", tmp / "run1.err");
  // Wait until some parts are durable (journalled), then kill -9.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (JournalParts(tmp / "dst") < 16 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int parts_before_kill = JournalParts(tmp / "dst");
  ASSERT_GE(parts_before_kill, 16) << ReadFile(tmp / "run1.err");
  ::kill(pid, SIGKILL);
  WaitCommand(pid);
  EXPECT_FALSE(Exists(final_path)) << "a killed copy must not leave a file at the final path";

  // Rerun: completes, reuses the journalled parts, and the result is exactly the source.
  auto r = RunCommand(DcArgs({"cp", tmp / "src", tmp / "dst"}));
  stop = true;
  watcher.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming big.bin:"), std::string::npos) << r.err;
  EXPECT_EQ(Sha256OfFile(final_path), sha);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_GT(seen_complete.load(), 0);
  // No temporary files or journals left behind.
  EXPECT_EQ(ListFilesRecursive(tmp / "dst"), std::vector<std::string>{"big.bin"});
}

TEST(DurabilityTest, AChangedSourceDiscardsTheStalePartialAndSyncDeleteRemovesLeftovers) {
  TempDir tmp;
  ::mkdir((tmp / "src").c_str(), 0755);
  // Journalled every 64 MiB: killed after the first checkpoint, well before the end.
  WriteRandomFile(tmp / "src/big.bin", 192ull << 20, 7);
  int pid = SpawnCommand(DcArgs({"--progress", "none", "cp", tmp / "src", tmp / "dst", "--bwlimit",
                                 "40M", "--part-size", "1M", "--jobs", "2"}),
                         tmp / "run1.out", tmp / "run1.err");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (JournalParts(tmp / "dst") < 4 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(JournalParts(tmp / "dst"), 4) << ReadFile(tmp / "run1.err");
  ::kill(pid, SIGKILL);
  WaitCommand(pid);
  ASSERT_FALSE(Exists(tmp / "dst/big.bin"));
  ASSERT_EQ(ListFilesRecursive(tmp / "dst").size(), 2u);  // the hidden partial and its journal

  // The source changes (other content, other size) before the rerun. A partial touched within
  // LocalStore::kStaleMarginNs of a store's opening may belong to a live writer and is kept, so
  // the rerun starts once the killed run's partial is older than that.
  const std::string sha = WriteRandomFile(tmp / "src/big.bin", (64ull << 20) + 1, 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  auto r = RunCommand(DcArgs({"--progress", "none", "cp", tmp / "src", tmp / "dst"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("resuming"), std::string::npos) << r.err;
  EXPECT_EQ(Sha256OfFile(tmp / "dst/big.bin"), sha);
  // The stale partial and its journal are gone, not hidden forever.
  EXPECT_EQ(ListFilesRecursive(tmp / "dst"), std::vector<std::string>{"big.bin"});

  // Leftovers of interrupted runs in a sink: cp keeps them, sync --delete removes them.
  ::mkdir((tmp / "dst/sub").c_str(), 0755);
  WriteFile(tmp / "dst/.gone.bin.0123456789abcdef.dctmp", "parts");
  WriteFile(tmp / "dst/.gone.bin.0123456789abcdef.dctmp.journal", "datacube-journal 1");
  WriteFile(tmp / "dst/sub/.old.txt.k3j9x0aa.dctmp", "half");
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  auto cp = RunCommand(DcArgs({"--progress", "none", "cp", tmp / "src", tmp / "dst"}));
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  EXPECT_EQ(ListFilesRecursive(tmp / "dst").size(), 4u);
  auto sync =
      RunCommand(DcArgs({"--progress", "none", "sync", "--delete", tmp / "src", tmp / "dst"}));
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_EQ(ListFilesRecursive(tmp / "dst"), std::vector<std::string>{"big.bin"});
  EXPECT_NE(sync.err.find("removed 3 temporary"), std::string::npos) << sync.err;
}

// Runs `script` in a private mount namespace so it can mount a small tmpfs (root only).
CommandResult InMountNamespace(const std::string& script) {
  return RunCommand({"unshare", "--mount", "--propagation", "private", "sh", "-c", script});
}

TEST(DurabilityTest, DiskFullEndsWithClearErrorAndNoPartialFile) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TempDir tmp;
  ::mkdir((tmp / "src").c_str(), 0755);
  ::mkdir((tmp / "full").c_str(), 0755);
  WriteRandomFile(tmp / "src/big.bin", 20 << 20, 1);  // multipart, larger than the disk
  WriteRandomFile(tmp / "src/mid.bin", 6 << 20, 2);   // single part, fits alone
  WriteFile(tmp / "src/small.txt", "fits");
  std::string script = "mount -t tmpfs -o size=8m tmpfs '" + (tmp / "full") + "' && '" +
                       DatacubeBin() + "' --progress none cp '" + (tmp / "src") + "' '" +
                       (tmp / "full/out") +
                       "' --jobs 1; rc=$?; echo \"rc=$rc\"; "
                       "find '" +
                       (tmp / "full") + "' -type f -printf '%P %s\\n'";
  auto r = InMountNamespace(script);
  ASSERT_NE(r.out.find("rc="), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("rc=1"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("big.bin"), std::string::npos) << r.err;
  // Nothing partial at a final path: big.bin is absent; files listed are complete.
  EXPECT_EQ(r.out.find("out/big.bin "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(".dctmp"), std::string::npos)
      << "temporary files must be cleaned up: " << r.out;
  if (r.out.find("out/mid.bin ") != std::string::npos) {
    EXPECT_NE(r.out.find("out/mid.bin 6291456"), std::string::npos) << r.out;
  }
}

TEST(DurabilityTest, PermissionDeniedNamesThePath) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the copy as another user";
  TempDir tmp;
  ::chmod(tmp.path().c_str(), 0755);
  ::mkdir((tmp / "src").c_str(), 0755);
  WriteFile(tmp / "src/a.txt", "data");
  ::chmod((tmp / "src/a.txt").c_str(), 0644);
  ::mkdir((tmp / "locked").c_str(), 0755);  // owned by root: nobody cannot write here
  auto r = RunCommand({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DatacubeBin(),
                       "--progress", "none", "cp", tmp / "src", tmp / "locked/out"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(tmp / "locked/out"), std::string::npos) << r.err;
  EXPECT_FALSE(Exists(tmp / "locked/out"));

  // Reading a file the user may not read names that file.
  WriteFile(tmp / "secret.bin", "x");
  ::chmod((tmp / "secret.bin").c_str(), 0600);
  ::mkdir((tmp / "open").c_str(), 0777);
  r = RunCommand({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", DatacubeBin(),
                  "--progress", "none", "cp", tmp / "secret.bin", tmp / "open/"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(tmp / "secret.bin"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace datacube::testing
