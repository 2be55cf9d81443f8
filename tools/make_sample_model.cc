// Writes a small sample model directory for `make demo` and the benchmarks: safetensors shards
// with valid headers, a config.json, a tokenizer.json and a model.safetensors.index.json.
//
//   make_sample_model DIR [--total-mib N] [--shards K]
//
// The tensor bytes are pseudo-random (deterministic per seed) so compression cannot help and
// SHA-256 values are reproducible.
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "datacube/io/atomic_file_writer.h"

namespace {

using datacube::io::AsBytes;
using datacube::io::AtomicFileWriter;

bool WriteText(const std::string& path, const std::string& text) {
  auto w = AtomicFileWriter::Create(path);
  if (!w.ok() || !w->Append(AsBytes(text)).ok() || !w->Commit().ok()) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

// One shard: an 8-byte little-endian header length, the JSON header, then the tensor data.
bool WriteShard(const std::string& path, uint64_t bytes, int shard, uint64_t seed,
                nlohmann::json& weight_map, const std::string& file_name) {
  const uint64_t tensors = 4;
  const uint64_t per_tensor = (bytes / tensors) & ~uint64_t{3};  // F32 elements
  nlohmann::ordered_json header;
  header["__metadata__"] = {{"format", "pt"}};
  uint64_t offset = 0;
  for (uint64_t t = 0; t < tensors; ++t) {
    std::string name = "model.layers." + std::to_string(shard) + ".w" + std::to_string(t);
    header[name] = {{"dtype", "F32"},
                    {"shape", {per_tensor / 4}},
                    {"data_offsets", {offset, offset + per_tensor}}};
    weight_map[name] = file_name;
    offset += per_tensor;
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8 != 0) h += ' ';  // safetensors pads the header to 8 bytes
  auto w = AtomicFileWriter::Create(path);
  if (!w.ok()) return false;
  uint64_t len = h.size();
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(len >> (8 * i));
  if (!w->Append({le, 8}).ok() || !w->Append(AsBytes(h)).ok()) return false;
  std::mt19937_64 rng(seed);
  std::vector<uint64_t> block(1 << 17);  // 1 MiB
  uint64_t left = offset;
  while (left > 0) {
    for (auto& v : block) v = rng();
    uint64_t n = std::min<uint64_t>(left, block.size() * 8);
    if (!w->Append({reinterpret_cast<const uint8_t*>(block.data()), n}).ok()) return false;
    left -= n;
  }
  return w->Commit().ok();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: make_sample_model DIR [--total-mib N] [--shards K]\n");
    return 2;
  }
  std::string dir = argv[1];
  uint64_t total_mib = 300;
  int shards = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--total-mib")
      total_mib = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--shards")
      shards = std::atoi(argv[i + 1]);
  }
  for (size_t i = 1; i <= dir.size(); ++i) {  // mkdir -p
    if (i == dir.size() || dir[i] == '/') ::mkdir(dir.substr(0, i).c_str(), 0755);
  }
  nlohmann::json weight_map = nlohmann::json::object();
  for (int s = 1; s <= shards; ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s, shards);
    if (!WriteShard(dir + "/" + name, (total_mib << 20) / shards, s, 1000 + s, weight_map, name)) {
      std::fprintf(stderr, "cannot write shard %s\n", name);
      return 1;
    }
  }
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", total_mib << 20}};
  index["weight_map"] = weight_map;
  nlohmann::ordered_json config = {{"architectures", {"DemoForCausalLM"}},
                                   {"model_type", "demo"},
                                   {"hidden_size", 1024},
                                   {"num_hidden_layers", shards},
                                   {"torch_dtype", "float32"}};
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  for (int i = 0; i < 2000; ++i) vocab["tok" + std::to_string(i)] = i;
  nlohmann::ordered_json tokenizer = {{"version", "1.0"},
                                      {"model", {{"type", "BPE"}, {"vocab", vocab}}}};
  if (!WriteText(dir + "/model.safetensors.index.json", index.dump(2) + "\n") ||
      !WriteText(dir + "/config.json", config.dump(2) + "\n") ||
      !WriteText(dir + "/tokenizer.json", tokenizer.dump() + "\n")) {
    return 1;
  }
  std::printf("wrote sample model (%d shards, %llu MiB) to %s\n", shards,
              static_cast<unsigned long long>(total_mib), dir.c_str());
  return 0;
}
