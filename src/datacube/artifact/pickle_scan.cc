#include "datacube/artifact/pickle_scan.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace datacube::artifact {
namespace {

// Callables a PyTorch or NumPy checkpoint needs and that cannot run arbitrary code: each builds
// a tensor, storage, dtype, shape or plain container from its arguments. Deliberately absent:
// torch.storage._load_from_bytes (it runs torch.load on nested bytes, i.e. another unpickling).
constexpr std::string_view kAllowedImports[] = {
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter",
    "torch._tensor._rebuild_from_type_v2",
    "torch.FloatStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.DoubleStorage",
    "torch.LongStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
    "torch.Size",
    // torch.dtype pickles as the global torch.<name>.
    "torch.float16",
    "torch.bfloat16",
    "torch.float32",
    "torch.float64",
    "torch.int8",
    "torch.int16",
    "torch.int32",
    "torch.int64",
    "torch.uint8",
    "torch.bool",
    "torch.complex64",
    "torch.complex128",
    "collections.OrderedDict",
    "numpy.core.multiarray._reconstruct",
    "numpy.dtype",
    "numpy.ndarray",
    // Protocol 2 writes Python 3 bytes as _codecs.encode(text, "latin1"), sets as builtins.set.
    "_codecs.encode",
    "builtins.set",
};

// A stack slot: a str (what STACK_GLOBAL needs) or anything else. Text points into the input.
struct Value {
  bool is_string = false;
  std::string_view text;
};

enum class Arg { kNone, kFixed1, kFixed2, kFixed4, kFixed8, kLine, kTwoLines, kLen1, kLen4, kLen8 };

// What the scanner does with an opcode beyond parsing its argument.
enum class Kind {
  kGeneric,       // pops `pop` values (or up to the mark), pushes `push` non-strings
  kPushString,    // pushes its argument as a str
  kQuotedString,  // STRING: a quoted repr
  kMark,
  kPop,
  kDup,
  kPut,
  kGet,
  kMemoize,
  kGlobal,  // GLOBAL and INST
  kStackGlobal,
  kExtension,
  kProto,
  kFrame,
  kStop,
};

struct OpInfo {
  uint8_t code = 0;
  const char* name = nullptr;
  Arg arg = Arg::kNone;
  Kind kind = Kind::kGeneric;
  int pop = 0;           // values popped above the mark
  int push = 0;          // values pushed
  bool to_mark = false;  // also pops everything down to and including the last mark
};

constexpr OpInfo Op(int code, const char* name, Arg arg, Kind kind, int pop = 0, int push = 0,
                    bool to_mark = false) {
  return OpInfo{static_cast<uint8_t>(code), name, arg, kind, pop, push, to_mark};
}
constexpr OpInfo Gen(int code, const char* name, Arg arg, int pop, int push, bool to_mark = false) {
  return Op(code, name, arg, Kind::kGeneric, pop, push, to_mark);
}

// Every opcode of protocols 0 to 5, as Python's pickletools lists them.
constexpr OpInfo kOpcodes[] = {
    Op('(', "MARK", Arg::kNone, Kind::kMark),
    Op('.', "STOP", Arg::kNone, Kind::kStop),
    Op('0', "POP", Arg::kNone, Kind::kPop),
    Gen('1', "POP_MARK", Arg::kNone, 0, 0, true),
    Op('2', "DUP", Arg::kNone, Kind::kDup),
    Gen('F', "FLOAT", Arg::kLine, 0, 1),
    Gen('I', "INT", Arg::kLine, 0, 1),
    Gen('J', "BININT", Arg::kFixed4, 0, 1),
    Gen('K', "BININT1", Arg::kFixed1, 0, 1),
    Gen('L', "LONG", Arg::kLine, 0, 1),
    Gen('M', "BININT2", Arg::kFixed2, 0, 1),
    Gen('N', "NONE", Arg::kNone, 0, 1),
    Gen('P', "PERSID", Arg::kLine, 0, 1),
    Gen('Q', "BINPERSID", Arg::kNone, 1, 1),
    Gen('R', "REDUCE", Arg::kNone, 2, 1),
    Op('S', "STRING", Arg::kLine, Kind::kQuotedString),
    Op('T', "BINSTRING", Arg::kLen4, Kind::kPushString),
    Op('U', "SHORT_BINSTRING", Arg::kLen1, Kind::kPushString),
    Op('V', "UNICODE", Arg::kLine, Kind::kPushString),
    Op('X', "BINUNICODE", Arg::kLen4, Kind::kPushString),
    Gen('a', "APPEND", Arg::kNone, 1, 0),
    Gen('b', "BUILD", Arg::kNone, 1, 0),
    Op('c', "GLOBAL", Arg::kTwoLines, Kind::kGlobal, 0, 1),
    Gen('d', "DICT", Arg::kNone, 0, 1, true),
    Gen('}', "EMPTY_DICT", Arg::kNone, 0, 1),
    Gen('e', "APPENDS", Arg::kNone, 0, 0, true),
    Op('g', "GET", Arg::kLine, Kind::kGet),
    Op('h', "BINGET", Arg::kFixed1, Kind::kGet),
    Op('i', "INST", Arg::kTwoLines, Kind::kGlobal, 0, 1, true),
    Op('j', "LONG_BINGET", Arg::kFixed4, Kind::kGet),
    Gen('l', "LIST", Arg::kNone, 0, 1, true),
    Gen(']', "EMPTY_LIST", Arg::kNone, 0, 1),
    Gen('o', "OBJ", Arg::kNone, 1, 1, true),
    Op('p', "PUT", Arg::kLine, Kind::kPut),
    Op('q', "BINPUT", Arg::kFixed1, Kind::kPut),
    Op('r', "LONG_BINPUT", Arg::kFixed4, Kind::kPut),
    Gen('s', "SETITEM", Arg::kNone, 2, 0),
    Gen('t', "TUPLE", Arg::kNone, 0, 1, true),
    Gen(')', "EMPTY_TUPLE", Arg::kNone, 0, 1),
    Gen('u', "SETITEMS", Arg::kNone, 0, 0, true),
    Gen('G', "BINFLOAT", Arg::kFixed8, 0, 1),
    Op(0x80, "PROTO", Arg::kFixed1, Kind::kProto),
    Gen(0x81, "NEWOBJ", Arg::kNone, 2, 1),
    Op(0x82, "EXT1", Arg::kFixed1, Kind::kExtension, 0, 1),
    Op(0x83, "EXT2", Arg::kFixed2, Kind::kExtension, 0, 1),
    Op(0x84, "EXT4", Arg::kFixed4, Kind::kExtension, 0, 1),
    Gen(0x85, "TUPLE1", Arg::kNone, 1, 1),
    Gen(0x86, "TUPLE2", Arg::kNone, 2, 1),
    Gen(0x87, "TUPLE3", Arg::kNone, 3, 1),
    Gen(0x88, "NEWTRUE", Arg::kNone, 0, 1),
    Gen(0x89, "NEWFALSE", Arg::kNone, 0, 1),
    Gen(0x8a, "LONG1", Arg::kLen1, 0, 1),
    Gen(0x8b, "LONG4", Arg::kLen4, 0, 1),
    Gen('B', "BINBYTES", Arg::kLen4, 0, 1),
    Gen('C', "SHORT_BINBYTES", Arg::kLen1, 0, 1),
    Op(0x8c, "SHORT_BINUNICODE", Arg::kLen1, Kind::kPushString),
    Op(0x8d, "BINUNICODE8", Arg::kLen8, Kind::kPushString),
    Gen(0x8e, "BINBYTES8", Arg::kLen8, 0, 1),
    Gen(0x8f, "EMPTY_SET", Arg::kNone, 0, 1),
    Gen(0x90, "ADDITEMS", Arg::kNone, 0, 0, true),
    Gen(0x91, "FROZENSET", Arg::kNone, 0, 1, true),
    Gen(0x92, "NEWOBJ_EX", Arg::kNone, 3, 1),
    Op(0x93, "STACK_GLOBAL", Arg::kNone, Kind::kStackGlobal),
    Op(0x94, "MEMOIZE", Arg::kNone, Kind::kMemoize),
    Op(0x95, "FRAME", Arg::kFixed8, Kind::kFrame),
    Gen(0x96, "BYTEARRAY8", Arg::kLen8, 0, 1),
    Gen(0x97, "NEXT_BUFFER", Arg::kNone, 0, 1),
    Gen(0x98, "READONLY_BUFFER", Arg::kNone, 1, 1),
};

// The opcode's description, or null for a byte that is no opcode.
const OpInfo* Describe(uint8_t code) {
  static const std::array<const OpInfo*, 256> by_code = [] {
    std::array<const OpInfo*, 256> table{};
    for (const OpInfo& op : kOpcodes) table[op.code] = &op;
    return table;
  }();
  return by_code[code];
}

uint64_t LittleEndian(std::span<const uint8_t> bytes) {
  uint64_t value = 0;
  for (size_t i = bytes.size(); i > 0; --i) value = (value << 8) | bytes[i - 1];
  return value;
}

std::string_view AsText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string Cut(std::string_view text) { return std::string(text.substr(0, kMaxPickleNameLength)); }

class Scanner {
 public:
  explicit Scanner(std::span<const uint8_t> data) : data_(data) {}

  Result<PickleScan> Run() {
    while (!stopped_) {
      if (pos_ >= data_.size()) return Invalid(pos_, "input ends without STOP");
      DC_RETURN_IF_ERROR(Step());
      ++scan_.opcodes;
    }
    scan_.end = pos_;
    return std::move(scan_);
  }

 private:
  Status Invalid(size_t offset, std::string_view what) const {
    return InvalidArgumentError("pickle: " + std::string(what) + " at offset " +
                                std::to_string(offset));
  }
  Status Truncated(const OpInfo& op) const {
    return Invalid(op_offset_, std::string("truncated ") + op.name + " argument");
  }

  Status Step() {
    op_offset_ = pos_;
    uint8_t code = data_[pos_++];
    const OpInfo* op = Describe(code);
    if (op == nullptr) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", code);
      return Invalid(op_offset_, std::string("unknown opcode ") + hex);
    }
    DC_RETURN_IF_ERROR(ReadArgument(*op));
    return Apply(*op);
  }

  // Takes n bytes, or fails naming the opcode when the input is shorter.
  Status Take(const OpInfo& op, uint64_t n, std::span<const uint8_t>* out) {
    if (n > data_.size() - pos_) return Truncated(op);
    *out = data_.subspan(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return Status::Ok();
  }

  Status TakeLine(const OpInfo& op, std::string_view* out) {
    for (size_t end = pos_; end < data_.size(); ++end) {
      if (data_[end] != '\n') continue;
      *out = AsText(data_.subspan(pos_, end - pos_));
      pos_ = end + 1;
      return Status::Ok();
    }
    return Truncated(op);
  }

  Status TakeCounted(const OpInfo& op, size_t length_bytes) {
    std::span<const uint8_t> length;
    DC_RETURN_IF_ERROR(Take(op, length_bytes, &length));
    uint64_t n = LittleEndian(length);
    // BINSTRING and LONG4 take a signed length; BINUNICODE and BINBYTES an unsigned one.
    std::string_view name = op.name;
    if (n > 0x7fffffffu && (name == "BINSTRING" || name == "LONG4")) {
      return Invalid(op_offset_, std::string("negative ") + op.name + " length");
    }
    if (n > data_.size() - pos_) {
      return Invalid(op_offset_,
                     std::string(op.name) + " length " + std::to_string(n) + " past end of input");
    }
    return Take(op, n, &bytes_);
  }

  Status ReadArgument(const OpInfo& op) {
    bytes_ = {};
    switch (op.arg) {
      case Arg::kNone:
        return Status::Ok();
      case Arg::kFixed1:
        return Take(op, 1, &bytes_);
      case Arg::kFixed2:
        return Take(op, 2, &bytes_);
      case Arg::kFixed4:
        return Take(op, 4, &bytes_);
      case Arg::kFixed8:
        return Take(op, 8, &bytes_);
      case Arg::kLine:
        return TakeLine(op, &line_);
      case Arg::kTwoLines:
        DC_RETURN_IF_ERROR(TakeLine(op, &line_));
        return TakeLine(op, &second_line_);
      case Arg::kLen1:
        return TakeCounted(op, 1);
      case Arg::kLen4:
        return TakeCounted(op, 4);
      case Arg::kLen8:
        return TakeCounted(op, 8);
    }
    return Status::Ok();
  }

  // Values above the innermost mark: the only ones an opcode may pop.
  size_t Available() const { return stack_.size() - (marks_.empty() ? 0 : marks_.back()); }

  Status Pop(const OpInfo& op, size_t n) {
    if (Available() < n) return Invalid(op_offset_, std::string(op.name) + " on a short stack");
    stack_.resize(stack_.size() - n);
    return Status::Ok();
  }

  Status PopMark(const OpInfo& op) {
    if (marks_.empty()) return Invalid(op_offset_, std::string(op.name) + " without a MARK");
    stack_.resize(marks_.back());
    marks_.pop_back();
    return Status::Ok();
  }

  Status Apply(const OpInfo& op) {
    switch (op.kind) {
      case Kind::kGeneric:
        return ApplyGeneric(op);
      case Kind::kPushString:
        return Push(Value{true, op.arg == Arg::kLine ? line_ : AsText(bytes_)});
      case Kind::kQuotedString:
        return PushQuoted(op);
      case Kind::kMark:
        marks_.push_back(stack_.size());
        return Status::Ok();
      case Kind::kPop:  // an empty frame pops its mark, as CPython does
        return Available() == 0 && !marks_.empty() ? PopMark(op) : Pop(op, 1);
      case Kind::kDup:
        if (Available() == 0) return Invalid(op_offset_, "DUP on an empty stack");
        return Push(stack_.back());
      case Kind::kPut:
        return ApplyPut(op);
      case Kind::kGet:
        return ApplyGet(op);
      case Kind::kMemoize:
        return Memoize(op, memo_.size());
      case Kind::kGlobal:
        return ApplyGlobal(op);
      case Kind::kStackGlobal:
        return ApplyStackGlobal(op);
      case Kind::kExtension:
        return ApplyExtension();
      case Kind::kProto:
        return ApplyProto();
      case Kind::kFrame:
        return ApplyFrame(op);
      case Kind::kStop:
        DC_RETURN_IF_ERROR(Pop(op, 1));
        stopped_ = true;
        return Status::Ok();
    }
    return Status::Ok();
  }

  Status ApplyGeneric(const OpInfo& op) {
    DC_RETURN_IF_ERROR(Pop(op, static_cast<size_t>(op.pop)));
    if (op.to_mark) DC_RETURN_IF_ERROR(PopMark(op));
    for (int i = 0; i < op.push; ++i) DC_RETURN_IF_ERROR(Push(Value{}));
    return Status::Ok();
  }

  Status Push(Value value) {
    stack_.push_back(value);
    return Status::Ok();
  }

  Status PushQuoted(const OpInfo& op) {
    std::string_view text = line_;
    if (text.size() < 2 || (text.front() != '\'' && text.front() != '"') ||
        text.back() != text.front()) {
      return Invalid(op_offset_, std::string(op.name) + " argument is not quoted");
    }
    return Push(Value{true, text.substr(1, text.size() - 2)});
  }

  // The memo index of PUT/GET (a decimal line) or of their binary forms.
  Status MemoIndex(const OpInfo& op, uint64_t* index) {
    if (op.arg != Arg::kLine) {
      *index = LittleEndian(bytes_);
      return Status::Ok();
    }
    auto [end, error] = std::from_chars(line_.data(), line_.data() + line_.size(), *index);
    if (error != std::errc() || end != line_.data() + line_.size()) {
      return Invalid(op_offset_, std::string("bad ") + op.name + " index");
    }
    return Status::Ok();
  }

  Status ApplyPut(const OpInfo& op) {
    uint64_t index = 0;
    DC_RETURN_IF_ERROR(MemoIndex(op, &index));
    return Memoize(op, index);
  }

  Status Memoize(const OpInfo& op, uint64_t index) {
    if (Available() == 0) return Invalid(op_offset_, std::string(op.name) + " on an empty stack");
    if (memo_.size() >= kMaxPickleMemoEntries && !memo_.contains(index)) {
      return Invalid(op_offset_,
                     "memo exceeds " + std::to_string(kMaxPickleMemoEntries) + " entries");
    }
    memo_[index] = stack_.back();
    return Status::Ok();
  }

  Status ApplyGet(const OpInfo& op) {
    uint64_t index = 0;
    DC_RETURN_IF_ERROR(MemoIndex(op, &index));
    auto it = memo_.find(index);
    if (it == memo_.end()) {
      return Invalid(op_offset_,
                     std::string(op.name) + " of unset memo entry " + std::to_string(index));
    }
    return Push(it->second);
  }

  Status ApplyGlobal(const OpInfo& op) {
    if (op.to_mark) DC_RETURN_IF_ERROR(PopMark(op));  // INST: the constructor's arguments
    RecordImport(line_, second_line_);
    return Push(Value{});
  }

  Status ApplyStackGlobal(const OpInfo& op) {
    if (Available() < 2) return Invalid(op_offset_, "STACK_GLOBAL on a short stack");
    Value module = stack_[stack_.size() - 2];
    Value name = stack_.back();
    DC_RETURN_IF_ERROR(Pop(op, 2));
    if (!module.is_string || !name.is_string) {
      AddReason("unsafe: STACK_GLOBAL at offset " + std::to_string(op_offset_) +
                " takes a value that is not a string");
    } else {
      RecordImport(module.text, name.text);
    }
    return Push(Value{});
  }

  Status ApplyExtension() {
    AddReason("unsafe: calls extension-registry code " + std::to_string(LittleEndian(bytes_)));
    return Push(Value{});
  }

  Status ApplyProto() {
    scan_.protocol = bytes_[0];
    if (scan_.protocol > 5) {
      return Invalid(op_offset_, "unsupported protocol " + std::to_string(scan_.protocol));
    }
    return Status::Ok();
  }

  // A frame only announces how many bytes its opcodes take; they are scanned as usual.
  Status ApplyFrame(const OpInfo& op) {
    if (LittleEndian(bytes_) > data_.size() - pos_) {
      return Invalid(op_offset_, std::string(op.name) + " length past end of input");
    }
    return Status::Ok();
  }

  void RecordImport(std::string_view module, std::string_view name) {
    std::string full = Cut(module) + "." + Cut(name);
    if (seen_.contains(full)) return;
    if (seen_.size() >= kMaxPickleImports) {
      AddReason("unsafe: more than " + std::to_string(kMaxPickleImports) + " distinct imports");
      return;
    }
    seen_.insert(full);
    bool cut = module.size() > kMaxPickleNameLength || name.size() > kMaxPickleNameLength;
    bool allowed = !cut && IsAllowedPickleImport(module, name);
    scan_.imports.push_back(PickleImport{Cut(module), Cut(name), op_offset_, allowed});
    if (!allowed) AddReason("unsafe: calls " + full);
  }

  void AddReason(std::string reason) {
    if (reasons_seen_.insert(reason).second) scan_.reasons.push_back(std::move(reason));
  }

  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  size_t op_offset_ = 0;
  bool stopped_ = false;
  // The current opcode's argument: counted or fixed bytes, or one or two lines.
  std::span<const uint8_t> bytes_;
  std::string_view line_;
  std::string_view second_line_;
  std::vector<Value> stack_;
  std::vector<size_t> marks_;  // stack depth at each open MARK
  std::unordered_map<uint64_t, Value> memo_;
  std::unordered_set<std::string> seen_;
  std::unordered_set<std::string> reasons_seen_;
  PickleScan scan_;
};

}  // namespace

bool IsAllowedPickleImport(std::string_view module, std::string_view name) {
  for (std::string_view allowed : kAllowedImports) {
    size_t dot = module.size();
    if (allowed.size() == dot + 1 + name.size() && allowed.substr(0, dot) == module &&
        allowed[dot] == '.' && allowed.substr(dot + 1) == name) {
      return true;
    }
  }
  return false;
}

Result<PickleScan> ScanPickle(std::span<const uint8_t> data) { return Scanner(data).Run(); }

}  // namespace datacube::artifact
