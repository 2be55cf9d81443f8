#include "testing/fault_proxy/socket_io.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fault_proxy {
namespace {

constexpr size_t kMaxHead = 64 << 10;
constexpr size_t kReadChunk = 64 << 10;

}  // namespace

Conn::~Conn() { Close(); }

Conn::Conn(Conn&& other) noexcept : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

Conn& Conn::operator=(Conn&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

void Conn::Close(bool reset) {
  if (fd_ < 0) return;
  if (reset) {
    // SO_LINGER with a zero timeout makes close() send RST: the client sees the connection cut.
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  ::close(fd_);
  fd_ = -1;
}

bool Conn::ReadHead(std::string& head) {
  while (true) {
    size_t end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = buffer_.substr(0, end + 4);
      buffer_.erase(0, end + 4);
      return true;
    }
    if (buffer_.size() > kMaxHead) return false;
    char chunk[8192];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

bool Conn::ReadLine(std::string& line) {
  while (true) {
    size_t end = buffer_.find("\r\n");
    if (end != std::string::npos) {
      line = buffer_.substr(0, end);
      buffer_.erase(0, end + 2);
      return true;
    }
    if (buffer_.size() > kMaxHead) return false;
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

long Conn::ReadSome(char* out, size_t max) {
  if (!buffer_.empty()) {
    size_t n = std::min(max, buffer_.size());
    std::memcpy(out, buffer_.data(), n);
    buffer_.erase(0, n);
    return static_cast<long>(n);
  }
  while (true) {
    ssize_t n = ::recv(fd_, out, std::min(max, kReadChunk), 0);
    if (n < 0 && errno == EINTR) continue;
    return static_cast<long>(n);
  }
}

bool Conn::WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Conn Dial(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return Conn();
  Conn out;
  for (addrinfo* ai = res; ai != nullptr && !out.valid(); ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      out = Conn(fd);
    } else {
      ::close(fd);
    }
  }
  ::freeaddrinfo(res);
  return out;
}

bool SplitHostPort(std::string_view text, int default_port, std::string& host, int& port) {
  port = default_port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(text.substr(1, close - 1));
    text.remove_prefix(close + 1);
    if (text.empty()) return true;
    if (text[0] != ':') return false;
    text.remove_prefix(1);
  } else {
    size_t colon = text.rfind(':');
    host = std::string(text.substr(0, colon));
    if (colon == std::string_view::npos) return !host.empty();
    text.remove_prefix(colon + 1);
  }
  try {
    port = std::stoi(std::string(text));
  } catch (...) {
    return false;
  }
  return !host.empty() && port >= 0 && port < 65536;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<std::string> Head::Get(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

void Head::Remove(std::string_view name) {
  std::erase_if(headers, [&](const auto& kv) { return EqualsIgnoreCase(kv.first, name); });
}

std::string Head::Serialize() const {
  std::string out = start_line + "\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  return out + "\r\n";
}

bool ParseHead(const std::string& raw, Head& head) {
  size_t pos = raw.find("\r\n");
  if (pos == std::string::npos || pos == 0) return false;
  head.start_line = raw.substr(0, pos);
  head.headers.clear();
  pos += 2;
  while (pos < raw.size()) {
    size_t end = raw.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    std::string line = raw.substr(pos, end - pos);
    size_t colon = line.find(':');
    if (colon == std::string::npos) return false;
    std::string value = line.substr(colon + 1);
    size_t b = value.find_first_not_of(" \t");
    size_t e = value.find_last_not_of(" \t");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    head.headers.emplace_back(line.substr(0, colon), value);
    pos = end + 2;
  }
  return true;
}

}  // namespace fault_proxy
