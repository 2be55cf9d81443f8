#include "datacube/storage/testing/conformance.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "datacube/crypto/sha256.h"

namespace datacube::storage {
namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

Status PutString(ObjectStore& store, const std::string& key, const std::string& data) {
  io::SpanSource src(data);
  WriteOptions o;
  o.size = data.size();
  auto r = store.Put(key, src, o);
  return r.status();
}

Result<std::string> ReadString(ObjectStore& store, const std::string& key,
                               ByteRange range = ByteRange::All()) {
  io::StringSink sink;
  DC_RETURN_IF_ERROR(store.Read(key, range, sink));
  return sink.str();
}

std::vector<std::string> ListKeys(ObjectStore& store, const std::string& prefix,
                                  size_t max_keys = 0) {
  std::vector<std::string> keys;
  ListRequest req;
  req.prefix = prefix;
  req.max_keys = max_keys;
  Status s = ListAll(store, req, [&](const ObjectInfo& o) {
    keys.push_back(o.key);
    return Status();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return keys;
}

class ConformanceTest : public ::testing::Test {
 public:
  ConformanceTest(ConformanceParams params, std::function<void(ConformanceTest&)> body)
      : params_(std::move(params)), body_(std::move(body)) {}
  void TestBody() override {
    store_ = params_.make_store();
    ASSERT_NE(store_, nullptr);
    body_(*this);
  }
  ObjectStore& store() { return *store_; }
  std::string K(const std::string& key) const { return params_.key_prefix + key; }
  const ConformanceParams& params() const { return params_; }

 private:
  ConformanceParams params_;
  std::function<void(ConformanceTest&)> body_;
  std::shared_ptr<ObjectStore> store_;
};

using Body = std::function<void(ConformanceTest&)>;

void PutStatRead(ConformanceTest& t) {
  ASSERT_TRUE(PutString(t.store(), t.K("a/hello.txt"), "hello, world").ok());
  auto st = t.store().Stat(t.K("a/hello.txt"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size, 12u);
  EXPECT_EQ(st->key, t.K("a/hello.txt"));
  if (t.store().capabilities().stores_sha256) {
    EXPECT_EQ(st->sha256, crypto::Sha256Hex("hello, world"));
  }
  auto data = ReadString(t.store(), t.K("a/hello.txt"));
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "hello, world");
}

void MissingIsNotFound(ConformanceTest& t) {
  auto st = t.store().Stat(t.K("does/not/exist"));
  EXPECT_EQ(st.status().code(), StatusCode::kNotFound) << st.status().ToString();
  auto data = ReadString(t.store(), t.K("does/not/exist"));
  EXPECT_EQ(data.status().code(), StatusCode::kNotFound) << data.status().ToString();
  // The message names the object.
  EXPECT_NE(std::string(st.status().message()).find("exist"), std::string::npos);
}

void RangedReads(ConformanceTest& t) {
  std::string data = RandomBytes(10000, 7);
  ASSERT_TRUE(PutString(t.store(), t.K("r.bin"), data).ok());
  EXPECT_EQ(*ReadString(t.store(), t.K("r.bin"), {0, 10}), data.substr(0, 10));
  EXPECT_EQ(*ReadString(t.store(), t.K("r.bin"), {5000, 1234}), data.substr(5000, 1234));
  EXPECT_EQ(*ReadString(t.store(), t.K("r.bin"), {9990, ByteRange::kToEnd}), data.substr(9990));
  // A range running past the end returns what exists.
  EXPECT_EQ(*ReadString(t.store(), t.K("r.bin"), {9995, 100}), data.substr(9995));
  auto past = ReadString(t.store(), t.K("r.bin"), {20000, 10});
  EXPECT_EQ(past.status().code(), StatusCode::kOutOfRange) << past.status().ToString();
}

void EmptyObject(ConformanceTest& t) {
  ASSERT_TRUE(PutString(t.store(), t.K("empty"), "").ok());
  auto st = t.store().Stat(t.K("empty"));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->size, 0u);
  auto data = ReadString(t.store(), t.K("empty"));
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "");
}

void Overwrite(ConformanceTest& t) {
  ASSERT_TRUE(PutString(t.store(), t.K("o"), "first version").ok());
  ASSERT_TRUE(PutString(t.store(), t.K("o"), "second").ok());
  EXPECT_EQ(*ReadString(t.store(), t.K("o")), "second");
  EXPECT_EQ(t.store().Stat(t.K("o"))->size, 6u);
}

void ListSortedRecursive(ConformanceTest& t) {
  for (const char* k : {"b", "a/y", "a-b", "a/x/z", "a0"}) {
    ASSERT_TRUE(PutString(t.store(), t.K(k), k).ok());
  }
  std::vector<std::string> want = {t.K("a-b"), t.K("a/x/z"), t.K("a/y"), t.K("a0"), t.K("b")};
  EXPECT_EQ(ListKeys(t.store(), t.K("")), want);
  EXPECT_EQ(ListKeys(t.store(), t.K("a/")), (std::vector<std::string>{t.K("a/x/z"), t.K("a/y")}));
  EXPECT_TRUE(ListKeys(t.store(), t.K("nothing/")).empty());
}

void ListDelimited(ConformanceTest& t) {
  for (const char* k : {"d/one", "d/sub/two", "d/sub/three", "d/z/four", "top"}) {
    ASSERT_TRUE(PutString(t.store(), t.K(k), "x").ok());
  }
  ListRequest req;
  req.prefix = t.K("d/");
  req.recursive = false;
  auto page = t.store().List(req);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> objects;
  for (const auto& o : page->objects) objects.push_back(o.key);
  EXPECT_EQ(objects, std::vector<std::string>{t.K("d/one")});
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{t.K("d/sub/"), t.K("d/z/")}));
}

void ListPaginated(ConformanceTest& t) {
  std::vector<std::string> want;
  for (int i = 0; i < 23; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "p/%02d/f", i);
    want.push_back(t.K(name));
    ASSERT_TRUE(PutString(t.store(), t.K(name), "x").ok());
  }
  // Pages of 5 must cover every key exactly once, in order.
  ListRequest req;
  req.prefix = t.K("p/");
  req.max_keys = 5;
  std::vector<std::string> got;
  int pages = 0;
  while (true) {
    auto page = t.store().List(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->objects.size(), 5u);
    for (const auto& o : page->objects) got.push_back(o.key);
    ++pages;
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
    ASSERT_LT(pages, 50);
  }
  EXPECT_EQ(got, want);
  EXPECT_GE(pages, 5);
}

void DeleteObjects(ConformanceTest& t) {
  ASSERT_TRUE(PutString(t.store(), t.K("del/a"), "1").ok());
  ASSERT_TRUE(PutString(t.store(), t.K("del/b"), "2").ok());
  ASSERT_TRUE(PutString(t.store(), t.K("del/c"), "3").ok());
  EXPECT_TRUE(t.store().Delete(t.K("del/a")).ok());
  EXPECT_EQ(t.store().Stat(t.K("del/a")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(t.store().Delete(t.K("del/never-existed")).ok());
  std::vector<std::string> keys = {t.K("del/b"), t.K("del/c")};
  std::vector<Status> per_key;
  EXPECT_TRUE(t.store().DeleteMany(keys, &per_key).ok());
  EXPECT_EQ(per_key.size(), 2u);
  EXPECT_TRUE(ListKeys(t.store(), t.K("del/")).empty());
}

void SpecialCharacters(ConformanceTest& t) {
  if (!t.params().test_special_characters) GTEST_SKIP() << "disabled for this backend";
  std::vector<std::string> names = {"with space.txt",    "ünïcødé/日本語.bin", "plus+equals=.x",
                                    "percent%20literal", "semi;colon,comma",   "quote'paren(1)"};
  for (const auto& n : names) {
    ASSERT_TRUE(PutString(t.store(), t.K("sp/" + n), n).ok()) << n;
  }
  for (const auto& n : names) {
    auto data = ReadString(t.store(), t.K("sp/" + n));
    ASSERT_TRUE(data.ok()) << n << ": " << data.status().ToString();
    EXPECT_EQ(*data, n);
  }
  auto keys = ListKeys(t.store(), t.K("sp/"));
  std::set<std::string> got(keys.begin(), keys.end());
  for (const auto& n : names) EXPECT_TRUE(got.count(t.K("sp/" + n))) << n;
}

void LargeObject(ConformanceTest& t) {
  std::string data = RandomBytes(t.params().large_object_size, 11);
  ASSERT_TRUE(PutString(t.store(), t.K("large.bin"), data).ok());
  auto back = ReadString(t.store(), t.K("large.bin"));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(crypto::Sha256Hex(*back), crypto::Sha256Hex(data));
}

void MultipartOutOfOrder(ConformanceTest& t) {
  if (!t.store().capabilities().multipart) GTEST_SKIP() << "no multipart";
  const uint64_t ps = t.params().part_size;
  std::string data = RandomBytes(ps * 2 + 1000, 3);
  MultipartOptions mo;
  mo.size = data.size();
  mo.part_size = ps;
  auto up = t.store().StartMultipart(t.K("mp/file.bin"), mo);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  auto part = [&](uint32_t n) {
    uint64_t off = (n - 1) * ps;
    uint64_t len = std::min<uint64_t>(ps, data.size() - off);
    auto r = (*up)->UploadPart(n, off, io::AsBytes(std::string_view(data).substr(off, len)));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  };
  std::vector<PartInfo> parts(3);
  parts[2] = part(3);
  parts[0] = part(1);
  parts[1] = part(2);
  // Not visible before Complete.
  EXPECT_EQ(t.store().Stat(t.K("mp/file.bin")).status().code(), StatusCode::kNotFound);
  auto info = (*up)->Complete(parts, crypto::Sha256Hex(data));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, data.size());
  auto back = ReadString(t.store(), t.K("mp/file.bin"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == data);
  if (t.store().capabilities().stores_sha256) {
    EXPECT_EQ(t.store().Stat(t.K("mp/file.bin"))->sha256, crypto::Sha256Hex(data));
  }
}

void MultipartAbort(ConformanceTest& t) {
  if (!t.store().capabilities().multipart) GTEST_SKIP() << "no multipart";
  const uint64_t ps = t.params().part_size;
  std::string data = RandomBytes(ps, 5);
  MultipartOptions mo;
  mo.size = data.size() * 2;
  mo.part_size = ps;
  auto up = t.store().StartMultipart(t.K("abort.bin"), mo);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_TRUE((*up)->UploadPart(1, 0, io::AsBytes(data)).ok());
  EXPECT_TRUE((*up)->Abort().ok());
  EXPECT_EQ(t.store().Stat(t.K("abort.bin")).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(ListKeys(t.store(), t.K("")).empty());
}

void MultipartResume(ConformanceTest& t) {
  if (!t.store().capabilities().resumable_multipart) GTEST_SKIP() << "no resumable multipart";
  const uint64_t ps = t.params().part_size;
  std::string data = RandomBytes(ps * 3, 9);
  MultipartOptions mo;
  mo.size = data.size();
  mo.part_size = ps;
  mo.resume_fingerprint = "source-v1";
  {
    auto up = t.store().StartMultipart(t.K("resume.bin"), mo);
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    EXPECT_TRUE((*up)->completed_parts().empty());
    ASSERT_TRUE((*up)->UploadPart(1, 0, io::AsBytes(std::string_view(data).substr(0, ps))).ok());
    ASSERT_TRUE((*up)->UploadPart(2, ps, io::AsBytes(std::string_view(data).substr(ps, ps))).ok());
    // Dropped without Complete or Abort: what a crash does.
  }
  auto up = t.store().StartMultipart(t.K("resume.bin"), mo);
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  auto done = (*up)->completed_parts();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].number, 1u);
  EXPECT_EQ(done[1].number, 2u);
  auto p3 = (*up)->UploadPart(3, 2 * ps, io::AsBytes(std::string_view(data).substr(2 * ps)));
  ASSERT_TRUE(p3.ok());
  std::vector<PartInfo> parts = {done[0], done[1], *p3};
  ASSERT_TRUE((*up)->Complete(parts, crypto::Sha256Hex(data)).ok());
  EXPECT_TRUE(*ReadString(t.store(), t.K("resume.bin")) == data);

  // A different fingerprint (the source changed) never resumes.
  mo.resume_fingerprint = "source-v2";
  auto fresh = t.store().StartMultipart(t.K("resume.bin"), mo);
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE((*fresh)->completed_parts().empty());
  EXPECT_TRUE((*fresh)->Abort().ok());
}

void ConditionalWrite(ConformanceTest& t) {
  if (!t.store().capabilities().conditional_write) GTEST_SKIP() << "no conditional writes";
  ASSERT_TRUE(PutString(t.store(), t.K("cond"), "1").ok());
  io::SpanSource src(std::string_view("2"));
  WriteOptions o;
  o.if_none_match = true;
  auto r = t.store().Put(t.K("cond"), src, o);
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists) << r.status().ToString();
  EXPECT_EQ(*ReadString(t.store(), t.K("cond")), "1");
}

void ServerSideCopy(ConformanceTest& t) {
  if (!t.store().capabilities().server_side_copy) GTEST_SKIP() << "no server-side copy";
  ASSERT_TRUE(PutString(t.store(), t.K("copy/src"), "payload").ok());
  auto r = t.store().CopyWithin(t.K("copy/src"), t.K("copy/dst"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*ReadString(t.store(), t.K("copy/dst")), "payload");
}

}  // namespace

void RegisterObjectStoreConformanceTests(const ConformanceParams& params) {
  const std::vector<std::pair<const char*, Body>> tests = {
      {"PutStatRead", PutStatRead},
      {"MissingIsNotFound", MissingIsNotFound},
      {"RangedReads", RangedReads},
      {"EmptyObject", EmptyObject},
      {"Overwrite", Overwrite},
      {"ListSortedRecursive", ListSortedRecursive},
      {"ListDelimited", ListDelimited},
      {"ListPaginated", ListPaginated},
      {"DeleteObjects", DeleteObjects},
      {"SpecialCharacters", SpecialCharacters},
      {"LargeObject", LargeObject},
      {"MultipartOutOfOrder", MultipartOutOfOrder},
      {"MultipartAbort", MultipartAbort},
      {"MultipartResume", MultipartResume},
      {"ConditionalWrite", ConditionalWrite},
      {"ServerSideCopy", ServerSideCopy},
  };
  std::string suite = params.name + "Conformance";
  for (const auto& [name, body] : tests) {
    ::testing::RegisterTest(
        suite.c_str(), name, nullptr, nullptr, __FILE__, __LINE__,
        [params, body = body]() -> ::testing::Test* { return new ConformanceTest(params, body); });
  }
}

}  // namespace datacube::storage
