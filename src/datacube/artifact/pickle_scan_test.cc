#include "datacube/artifact/pickle_scan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace datacube::artifact {
namespace {

using namespace std::string_literals;

Result<PickleScan> Scan(const std::string& bytes) {
  return ScanPickle(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::vector<std::string> Names(const PickleScan& scan) {
  std::vector<std::string> names;
  for (const PickleImport& import : scan.imports) names.push_back(import.FullName());
  return names;
}

// torch.save({"weight": tensor}) in protocol 2: OrderedDict() then SETITEM of a tensor rebuilt by
// _rebuild_tensor_v2 from a persistent-id storage.
const std::string kProtocol2StateDict =
    "\x80\x02"
    "ccollections\nOrderedDict\nq\x00)Rq\x01"
    "X\x06\x00\x00\x00weightq\x02"
    "ctorch._utils\n_rebuild_tensor_v2\nq\x03"
    "((X\x07\x00\x00\x00storageq\x04"
    "ctorch\nFloatStorage\nq\x05"
    "X\x01\x00\x00\x00"
    "0q\x06X\x03\x00\x00\x00"
    "cpuq\x07K\x04tq\x08Q"
    "K\x00K\x02K\x02\x86q\x09K\x02K\x01\x86q\x0a\x89"
    "h\x00)Rq\x0btq\x0cRq\x0d"
    "s."s;

TEST(PickleScanTest, Protocol2StateDictIsSafe) {
  Result<PickleScan> scan = Scan(kProtocol2StateDict);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_TRUE(scan->safe());
  EXPECT_EQ(scan->protocol, 2);
  EXPECT_EQ(Names(*scan),
            (std::vector<std::string>{"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                      "torch.FloatStorage"}));
  for (const PickleImport& import : scan->imports) EXPECT_TRUE(import.allowed);
}

// The same in protocol 4: FRAME, SHORT_BINUNICODE strings, STACK_GLOBAL and MEMOIZE; the second
// OrderedDict comes back through BINGET of the memoized module and name strings.
const std::string kProtocol4StateDict =
    "\x80\x04\x95\xa2\x00\x00\x00\x00\x00\x00\x00"
    "\x8c\x0b"
    "collections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94"
    "\x8c\x06weight\x94"
    "\x8c\x0ctorch._utils\x94\x8c\x12_rebuild_tensor_v2\x94\x93\x94"
    "((\x8c\x07storage\x94\x8c\x05torch\x94\x8c\x0c"
    "FloatStorage\x94\x93\x94"
    "\x8c\x01"
    "0\x94\x8c\x03"
    "cpu\x94K\x04t\x94Q"
    "K\x00K\x02K\x02\x86\x94K\x02K\x01\x86\x94\x89"
    "h\x00h\x01\x93\x94)R\x94t\x94R\x94"
    "s."s;

TEST(PickleScanTest, Protocol4StackGlobalWithMemoIsSafe) {
  Result<PickleScan> scan = Scan(kProtocol4StateDict);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_TRUE(scan->safe()) << scan->reasons.front();
  EXPECT_EQ(scan->protocol, 4);
  EXPECT_EQ(Names(*scan),
            (std::vector<std::string>{"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                      "torch.FloatStorage"}));
}

TEST(PickleScanTest, GlobalOsSystemIsUnsafe) {
  Result<PickleScan> scan = Scan(
      "\x80\x02"
      "cos\nsystem\nX\x02\x00\x00\x00id\x85R."s);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_FALSE(scan->safe());
  EXPECT_EQ(scan->reasons, std::vector<std::string>{"unsafe: calls os.system"});
  ASSERT_EQ(scan->imports.size(), 1u);
  EXPECT_FALSE(scan->imports[0].allowed);
  EXPECT_EQ(scan->imports[0].offset, 2u);
}

TEST(PickleScanTest, StackGlobalBuiltinsEvalIsUnsafe) {
  Result<PickleScan> scan = Scan(
      "\x80\x04\x8c\x08"
      "builtins\x94\x8c\x04"
      "eval\x94\x93\x94\x8c\x01"
      "1\x85R."s);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->reasons, std::vector<std::string>{"unsafe: calls builtins.eval"});
}

TEST(PickleScanTest, PosixSystemIsUnsafe) {
  Result<PickleScan> scan = Scan("cposix\nsystem\n(S'id'\ntR."s);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->protocol, 0);
  EXPECT_EQ(scan->reasons, std::vector<std::string>{"unsafe: calls posix.system"});
}

TEST(PickleScanTest, InstSubprocessPopenIsUnsafe) {
  Result<PickleScan> scan = Scan("(S'id'\nisubprocess\nPopen\n."s);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->reasons, std::vector<std::string>{"unsafe: calls subprocess.Popen"});
}

// An allowed name hidden among harmful ones: every harmful one is reported, once.
TEST(PickleScanTest, ReportsEachHarmfulImportOnce) {
  Result<PickleScan> scan =
      Scan("ctorch\nSize\n0cos\nsystem\n0cos\nsystem\n0ctorch.storage\n_load_from_bytes\n."s);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->reasons,
            (std::vector<std::string>{"unsafe: calls os.system",
                                      "unsafe: calls torch.storage._load_from_bytes"}));
  EXPECT_EQ(scan->imports.size(), 3u);
}

TEST(PickleScanTest, StackGlobalOfNonStringsIsUnsafe) {
  Result<PickleScan> scan = Scan("\x80\x04K\x01K\x02\x93."s);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->reasons,
            std::vector<std::string>{
                "unsafe: STACK_GLOBAL at offset 6 takes a value that is not a string"});
}

TEST(PickleScanTest, ExtensionCodeIsUnsafe) {
  Result<PickleScan> scan = Scan("\x80\x02\x82\x07."s);
  ASSERT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_EQ(scan->reasons, std::vector<std::string>{"unsafe: calls extension-registry code 7"});
}

void ExpectInvalid(const std::string& bytes, const std::string& message) {
  Result<PickleScan> scan = Scan(bytes);
  ASSERT_FALSE(scan.ok());
  EXPECT_EQ(scan.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(scan.status().message(), message);
}

TEST(PickleScanTest, TruncatedPickle) {
  ExpectInvalid(kProtocol2StateDict.substr(0, kProtocol2StateDict.size() - 1),
                "pickle: input ends without STOP at offset " +
                    std::to_string(kProtocol2StateDict.size() - 1));
  ExpectInvalid("\x80\x02J\x01\x02"s, "pickle: truncated BININT argument at offset 2");
  ExpectInvalid("cos\nsystem"s, "pickle: truncated GLOBAL argument at offset 0");
  ExpectInvalid(""s, "pickle: input ends without STOP at offset 0");
}

TEST(PickleScanTest, UnknownOpcode) {
  ExpectInvalid("\x80\x02\xffN."s, "pickle: unknown opcode 0xff at offset 2");
  ExpectInvalid("\x80\x06N."s, "pickle: unsupported protocol 6 at offset 0");
}

TEST(PickleScanTest, StringLengthPastEnd) {
  ExpectInvalid("\x80\x04X\x10\x00\x00\x00short."s,
                "pickle: BINUNICODE length 16 past end of input at offset 2");
  ExpectInvalid(
      "\x80\x04\x8c\x05"
      "ab."s,
      "pickle: SHORT_BINUNICODE length 5 past end of input at offset 2");
  ExpectInvalid("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xff."s,
                "pickle: BINUNICODE8 length 18446744073709551615 past end of input at offset 2");
  ExpectInvalid("T\xff\xff\xff\xff."s, "pickle: negative BINSTRING length at offset 0");
  ExpectInvalid(
      "\x80\x03"
      "B\x09\x00\x00\x00"
      "abc."s,
      "pickle: BINBYTES length 9 past end of input at offset 2");
}

TEST(PickleScanTest, MalformedStack) {
  ExpectInvalid("R."s, "pickle: REDUCE on a short stack at offset 0");
  ExpectInvalid("Nt."s, "pickle: TUPLE without a MARK at offset 1");
  ExpectInvalid("\x80\x02h\x03."s, "pickle: BINGET of unset memo entry 3 at offset 2");
  // Values below a MARK cannot be popped by an opcode above it.
  ExpectInvalid("N(R."s, "pickle: REDUCE on a short stack at offset 2");
}

TEST(PickleScanTest, AllowList) {
  EXPECT_TRUE(IsAllowedPickleImport("torch._utils", "_rebuild_parameter"));
  EXPECT_TRUE(IsAllowedPickleImport("torch", "bfloat16"));
  EXPECT_TRUE(IsAllowedPickleImport("numpy.core.multiarray", "_reconstruct"));
  EXPECT_FALSE(IsAllowedPickleImport("torch.storage", "_load_from_bytes"));
  EXPECT_FALSE(IsAllowedPickleImport("builtins", "getattr"));
  EXPECT_FALSE(IsAllowedPickleImport("torch._utils._rebuild_tensor_v2", ""));
}

}  // namespace
}  // namespace datacube::artifact
