#include "testing/fault_proxy/proxy.h"

#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <thread>

namespace fault_proxy {
namespace {

using Clock = std::chrono::steady_clock;

enum class Framing { kNone, kLength, kChunked, kUntilClose };
enum class RelayEnd { kDone, kCut, kError };

struct BodyFaults {
  std::optional<uint64_t> cut_after;
  std::optional<uint64_t> corrupt_at;
};

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Framing RequestFraming(const Head& h, uint64_t& length) {
  if (auto te = h.Get("Transfer-Encoding"); te && te->find("chunked") != std::string::npos) {
    return Framing::kChunked;
  }
  if (auto cl = h.Get("Content-Length")) {
    length = std::stoull(*cl);
    return length ? Framing::kLength : Framing::kNone;
  }
  return Framing::kNone;
}

Framing ResponseFraming(const Head& h, const std::string& method, int status, uint64_t& length) {
  if (method == "HEAD" || status / 100 == 1 || status == 204 || status == 304) {
    return Framing::kNone;
  }
  if (auto te = h.Get("Transfer-Encoding"); te && te->find("chunked") != std::string::npos) {
    return Framing::kChunked;
  }
  if (auto cl = h.Get("Content-Length")) {
    length = std::stoull(*cl);
    return length ? Framing::kLength : Framing::kNone;
  }
  return Framing::kUntilClose;
}

// Copies one message body from `in` to `out`, applying `faults` to the content bytes (not the
// chunk framing). `content` counts the content bytes sent.
class BodyRelay {
 public:
  BodyRelay(Conn& in, Conn& out, RateGate& gate, BodyFaults faults)
      : in_(in), out_(out), gate_(gate), faults_(faults) {}

  RelayEnd Run(Framing framing, uint64_t length) {
    switch (framing) {
      case Framing::kNone:
        return RelayEnd::kDone;
      case Framing::kLength:
        return Copy(length, /*until_close=*/false);
      case Framing::kUntilClose:
        return Copy(0, /*until_close=*/true);
      case Framing::kChunked:
        return Chunked();
    }
    return RelayEnd::kError;
  }
  uint64_t content() const { return content_; }
  bool corrupted() const { return corrupted_; }

 private:
  RelayEnd Copy(uint64_t length, bool until_close) {
    std::string buf(gate_.ChunkSize(), '\0');
    while (until_close || length > 0) {
      size_t want = until_close ? buf.size() : std::min<uint64_t>(buf.size(), length);
      long n = in_.ReadSome(buf.data(), want);
      if (n == 0 && until_close) return RelayEnd::kDone;
      if (n <= 0) return RelayEnd::kError;
      RelayEnd end = Send(buf.data(), static_cast<size_t>(n));
      if (end != RelayEnd::kDone) return end;
      if (!until_close) length -= static_cast<uint64_t>(n);
    }
    return RelayEnd::kDone;
  }

  RelayEnd Chunked() {
    while (true) {
      std::string line;
      if (!in_.ReadLine(line)) return RelayEnd::kError;
      uint64_t size = 0;
      try {
        size = std::stoull(line.substr(0, line.find(';')), nullptr, 16);
      } catch (...) {
        return RelayEnd::kError;
      }
      if (!out_.WriteAll(line + "\r\n")) return RelayEnd::kError;
      if (size == 0) {  // trailers, then the blank line that ends the message
        while (true) {
          if (!in_.ReadLine(line) || !out_.WriteAll(line + "\r\n")) return RelayEnd::kError;
          if (line.empty()) return RelayEnd::kDone;
        }
      }
      RelayEnd end = Copy(size, false);
      if (end != RelayEnd::kDone) return end;
      if (!in_.ReadLine(line) || !out_.WriteAll("\r\n")) return RelayEnd::kError;
    }
  }

  RelayEnd Send(char* data, size_t n) {
    if (faults_.corrupt_at && *faults_.corrupt_at >= content_ &&
        *faults_.corrupt_at < content_ + n) {
      data[*faults_.corrupt_at - content_] ^= 0x5a;
      corrupted_ = true;
    }
    bool cut = false;
    if (faults_.cut_after && content_ + n >= *faults_.cut_after) {
      n = static_cast<size_t>(*faults_.cut_after - content_);
      cut = true;
    }
    gate_.Acquire(n);
    if (n > 0 && !out_.WriteAll(std::string_view(data, n))) return RelayEnd::kError;
    content_ += n;
    return cut ? RelayEnd::kCut : RelayEnd::kDone;
  }

  Conn& in_;
  Conn& out_;
  RateGate& gate_;
  BodyFaults faults_;
  uint64_t content_ = 0;
  bool corrupted_ = false;
};

// Copies bytes both ways until either side closes (CONNECT tunnels).
void Tunnel(Conn& a, Conn& b, RateGate& gate, uint64_t& bytes) {
  std::atomic<uint64_t> total{0};
  auto pump = [&](Conn& from, Conn& to) {
    std::string buf(gate.ChunkSize(), '\0');
    while (true) {
      long n = from.ReadSome(buf.data(), buf.size());
      if (n <= 0) break;
      gate.Acquire(static_cast<uint64_t>(n));
      if (!to.WriteAll(std::string_view(buf.data(), static_cast<size_t>(n)))) break;
      total += static_cast<uint64_t>(n);
    }
    ::shutdown(to.fd(), SHUT_WR);
  };
  std::thread back([&] { pump(b, a); });
  pump(a, b);
  back.join();
  bytes = total;
}

}  // namespace

void RateGate::Acquire(uint64_t n) {
  if (rate_ == 0 || n == 0) return;
  Clock::time_point ready;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = Clock::now();
    if (next_ < now) next_ = now;
    next_ += std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(static_cast<double>(n) / static_cast<double>(rate_)));
    ready = next_;
  }
  std::this_thread::sleep_until(ready);
}

size_t RateGate::ChunkSize() const {
  if (rate_ == 0) return 64 << 10;
  return static_cast<size_t>(std::clamp<uint64_t>(rate_ / 20, 1024, 64 << 10));
}

struct Proxy::Exchange {
  int seq = 0;
  std::string peer;
  std::string method;
  std::string target;
  int status = 0;
  std::string fault = "none";
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  Clock::time_point start = Clock::now();
};

Proxy::Proxy(FaultConfig config, std::FILE* log)
    : config_(std::move(config)), log_(log), gate_(config_.rate) {}

void Proxy::Serve(Conn client, const std::string& peer) {
  while (true) {
    std::string raw;
    if (!client.ReadHead(raw)) return;
    Head request;
    if (!ParseHead(raw, request)) {
      client.WriteAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    Exchange x;
    x.seq = ++requests_;
    x.peer = peer;
    std::string line = request.start_line;
    x.method = line.substr(0, line.find(' '));
    size_t t0 = line.find(' ') + 1;
    x.target = line.substr(t0, line.rfind(' ') - t0);
    bool keep = x.method == "CONNECT" ? HandleConnect(client, request, x)
                                      : HandleRequest(client, request, x);
    Log(x);
    auto conn = request.Get("Connection");
    if (!keep || (conn && EqualsIgnoreCase(*conn, "close")) ||
        (line.size() >= 8 && line.compare(line.size() - 8, 8, "HTTP/1.0") == 0)) {
      return;
    }
  }
}

bool Proxy::Fail(Conn& client, const Head& request, Exchange& x) {
  x.fault = "fail";
  ++failed_;
  uint64_t length = 0;
  Framing framing = RequestFraming(request, length);
  bool expect = request.Get("Expect").has_value();
  if (!expect && framing != Framing::kNone) {
    // Read and drop the body so the connection stays usable, as a real server would.
    std::string buf(64 << 10, '\0');
    if (framing == Framing::kLength) {
      while (length > 0) {
        long n = client.ReadSome(buf.data(), std::min<uint64_t>(buf.size(), length));
        if (n <= 0) return false;
        length -= static_cast<uint64_t>(n);
      }
    } else {
      return false;  // chunked uploads: answer, then close instead of parsing the body
    }
  }
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" +
                     config_.fail_code +
                     "</Code><Message>injected by fault_proxy</Message>"
                     "<RequestId>fault-" +
                     std::to_string(x.seq) + "</RequestId></Error>";
  x.status = config_.fail_status;
  std::string head = "HTTP/1.1 " + std::to_string(config_.fail_status) +
                     " Injected Fault\r\n"
                     "Content-Type: application/xml\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n" +
                     (expect ? "Connection: close\r\n" : "") + "\r\n";
  x.response_bytes = body.size();
  return client.WriteAll(head + body) && !expect;
}

bool Proxy::HandleControl(Conn& client, const std::string& path, Exchange& x) {
  std::string body;
  if (path == "/__fault_proxy/reset") {
    ResetCounters();
    body = "{}";
  } else {
    body = StatsJson();
  }
  x.status = 200;
  x.fault = "control";
  return client.WriteAll("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body);
}

bool Proxy::HandleRequest(Conn& client, const Head& request, Exchange& x) {
  std::string host = config_.upstream_host;
  int port = config_.upstream_port;
  std::string path = x.target;
  bool forward = host.empty();
  if (forward) {  // absolute-form target: http://host[:port]/path
    if (path.rfind("http://", 0) != 0) {
      x.status = 400;
      client.WriteAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
      return false;
    }
    std::string rest = path.substr(7);
    size_t slash = rest.find('/');
    if (!SplitHostPort(rest.substr(0, slash), 80, host, port)) return false;
    MapHost(host, port);
    path = slash == std::string::npos ? "/" : rest.substr(slash);
  }
  if (path.rfind("/__fault_proxy/", 0) == 0) return HandleControl(client, path, x);

  bool matches =
      config_.match.empty() || (x.method + " " + x.target).find(config_.match) != std::string::npos;
  int n = matches ? ++matched_ : 0;
  if (matches && n <= config_.fail_first) return Fail(client, request, x);
  if (matches && config_.delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(config_.delay_ms));
  }

  Conn upstream = Dial(host, port);
  if (!upstream.valid()) {
    x.status = 502;
    client.WriteAll("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return false;
  }
  Head out = request;
  out.start_line = x.method + " " + path + " HTTP/1.1";
  bool expect = request.Get("Expect").has_value();
  for (const char* h :
       {"Proxy-Connection", "Proxy-Authorization", "Connection", "Keep-Alive", "Expect"}) {
    out.Remove(h);
  }
  out.headers.emplace_back("Connection", "close");  // one upstream connection per request
  if (!upstream.WriteAll(out.Serialize())) return false;
  if (expect && !client.WriteAll("HTTP/1.1 100 Continue\r\n\r\n")) return false;
  uint64_t length = 0;
  Framing req_framing = RequestFraming(request, length);
  BodyRelay up(client, upstream, gate_, {});
  if (up.Run(req_framing, length) != RelayEnd::kDone) return false;
  x.request_bytes = up.content();

  std::string raw;
  Head response;
  do {  // skip interim 1xx answers; we already told the client to continue
    if (!upstream.ReadHead(raw) || !ParseHead(raw, response)) {
      x.status = 502;
      client.WriteAll("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return false;
    }
    x.status = std::stoi(response.start_line.substr(9, 3));
  } while (x.status / 100 == 1);
  uint64_t resp_length = 0;
  Framing framing = ResponseFraming(response, x.method, x.status, resp_length);
  for (const char* h : {"Connection", "Keep-Alive", "Proxy-Connection"}) response.Remove(h);
  if (framing == Framing::kUntilClose) response.headers.emplace_back("Connection", "close");

  BodyFaults faults;
  if (matches && framing != Framing::kNone) {
    if (cut_.load() < config_.cut_first && ++cut_ <= config_.cut_first) {
      faults.cut_after = config_.cut_after;
      x.fault = "cut";
    } else if (corrupted_.load() < config_.corrupt_first && ++corrupted_ <= config_.corrupt_first) {
      faults.corrupt_at = config_.corrupt_offset;
      x.fault = "corrupt";
    }
  }
  if (!client.WriteAll(response.Serialize())) return false;
  BodyRelay down(upstream, client, gate_, faults);
  RelayEnd end = down.Run(framing, resp_length);
  x.response_bytes = down.content();
  if (end == RelayEnd::kCut) {
    client.Close(/*reset=*/true);
    return false;
  }
  return end == RelayEnd::kDone && framing != Framing::kUntilClose;
}

bool Proxy::HandleConnect(Conn& client, const Head& request, Exchange& x) {
  std::string host;
  int port = 0;
  if (!config_.upstream_host.empty() || !SplitHostPort(x.target, 443, host, port)) {
    x.status = 400;
    client.WriteAll("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return false;
  }
  bool matches =
      config_.match.empty() || ("CONNECT " + x.target).find(config_.match) != std::string::npos;
  if (matches && ++matched_ <= config_.fail_first) {
    Fail(client, request, x);
    return false;
  }
  MapHost(host, port);
  Conn upstream = Dial(host, port);
  if (!upstream.valid()) {
    x.status = 502;
    client.WriteAll("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return false;
  }
  x.status = 200;
  if (!client.WriteAll("HTTP/1.1 200 Connection established\r\n\r\n")) return false;
  Tunnel(client, upstream, gate_, x.response_bytes);
  return false;
}

void Proxy::MapHost(std::string& host, int& port) const {
  auto it = config_.host_map.find(host + ":" + std::to_string(port));
  if (it == config_.host_map.end()) return;
  std::string to_host;
  int to_port = 0;
  if (SplitHostPort(it->second, port, to_host, to_port)) {
    host = to_host;
    port = to_port;
  }
}

void Proxy::Log(const Exchange& x) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - x.start).count();
  std::string line = "{\"seq\":" + std::to_string(x.seq) + ",\"peer\":\"" + JsonEscape(x.peer) +
                     "\",\"method\":\"" + JsonEscape(x.method) + "\",\"target\":\"" +
                     JsonEscape(x.target) + "\",\"status\":" + std::to_string(x.status) +
                     ",\"fault\":\"" + x.fault +
                     "\",\"request_bytes\":" + std::to_string(x.request_bytes) +
                     ",\"response_bytes\":" + std::to_string(x.response_bytes) +
                     ",\"ms\":" + std::to_string(ms) + "}\n";
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fputs(line.c_str(), log_);
  std::fflush(log_);
}

std::string Proxy::StatsJson() const {
  return "{\"requests\":" + std::to_string(requests_.load()) +
         ",\"matched\":" + std::to_string(matched_.load()) +
         ",\"failed\":" + std::to_string(failed_.load()) +
         ",\"cut\":" + std::to_string(std::min(cut_.load(), config_.cut_first)) +
         ",\"corrupted\":" + std::to_string(std::min(corrupted_.load(), config_.corrupt_first)) +
         "}";
}

void Proxy::ResetCounters() {
  matched_ = 0;
  failed_ = 0;
  cut_ = 0;
  corrupted_ = 0;
}

}  // namespace fault_proxy
