// Blocking socket plumbing for the fault proxy: a connected socket with a read buffer, HTTP/1.1
// message heads, and dialing.
//
// The proxy must be able to do what an HTTP library hides (stop mid-body, flip a byte, pace a
// stream), so it speaks HTTP/1.1 itself over plain sockets. Only loopback test traffic passes
// through it; limits are generous but fixed so a broken client cannot make it grow without end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fault_proxy {

// An owned, connected TCP socket with a read buffer. Move-only.
class Conn {
 public:
  Conn() = default;
  explicit Conn(int fd) : fd_(fd) {}
  ~Conn();
  Conn(Conn&& other) noexcept;
  Conn& operator=(Conn&& other) noexcept;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Reads up to and including "\r\n\r\n". False on EOF, error, or a head over 64 KiB.
  bool ReadHead(std::string& head);
  // Reads one line ending in "\r\n" (returned without it). False on EOF or error.
  bool ReadLine(std::string& line);
  // Reads up to `max` bytes (buffered bytes first). 0 on EOF, -1 on error.
  long ReadSome(char* out, size_t max);
  // Writes all of `data`. False on error (the peer went away).
  bool WriteAll(std::string_view data);
  // Closes at once; with `reset`, the peer sees a connection reset instead of an orderly close.
  void Close(bool reset = false);

 private:
  int fd_ = -1;
  std::string buffer_;  // bytes read from the socket but not consumed yet
};

// "127.0.0.1", 8080 -> a connected socket, or an invalid Conn.
Conn Dial(const std::string& host, int port);

// Splits "host:port" ("[::1]:80" too); `default_port` when no port is given.
bool SplitHostPort(std::string_view text, int default_port, std::string& host, int& port);

struct Head {
  std::string start_line;  // "GET /x HTTP/1.1" or "HTTP/1.1 200 OK"
  std::vector<std::pair<std::string, std::string>> headers;

  // First value of `name` (case-insensitive), if present.
  std::optional<std::string> Get(std::string_view name) const;
  void Remove(std::string_view name);
  std::string Serialize() const;
};

// Parses a head as read by ReadHead. False when malformed.
bool ParseHead(const std::string& raw, Head& head);

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace fault_proxy
