// Result<T>: a value or the Status that explains why there is none.
//
// Shaped like absl::StatusOr (ok(), status(), value(), operator*, operator->). std::expected is
// C++23, so we carry our own. Constructing a Result from an OK Status is a programming error and
// is turned into kInternal so it cannot silently look like success.
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "datacube/base/status.h"

namespace datacube {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : data_(value) {}            // NOLINT: implicit by design
  Result(T&& value) : data_(std::move(value)) {}      // NOLINT
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    if (std::get<Status>(data_).ok()) {
      data_ = InternalError("Result constructed from an OK status without a value");
    }
  }
  template <typename U,
            typename = std::enable_if_t<
                std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, Status> &&
                !std::is_same_v<std::decay_t<U>, Result<T>> && !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : data_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(data_); }

  // The error, or OK when a value is held.
  Status status() const& { return ok() ? Status() : std::get<Status>(data_); }
  Status status() && { return ok() ? Status() : std::move(std::get<Status>(data_)); }

  T& value() & {
    assert(ok());
    return std::get<T>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::move(std::get<T>(data_));
  }
  T value_or(T fallback) const& { return ok() ? std::get<T>(data_) : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace datacube
