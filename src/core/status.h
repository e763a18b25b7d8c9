// Status and Result<T>: the error currency at every module boundary.
//
// The code tells the caller what to do next (after abseil's status.h and kvrocks):
//   kInvalidArgument     the input is wrong; nothing changed; answer 4xx, do not retry.
//   kUnauthenticated     bad or missing credentials or signature; answer 401.
//   kNotFound            the thing asked for does not exist; answer 404.
//   kPayloadTooLarge     the body exceeds the configured limit; answer 413.
//   kUnavailable         transient (disk busy, platform down, rate limited): retry with back-off.
//   kFailedPrecondition  can never succeed as asked (dead-letter it, never retry).
//   kInternal            a bug or an invariant broken; log loudly.
// Thread-safety: values; copy freely between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace loyaltyd {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kUnauthenticated,
  kNotFound,
  kPayloadTooLarge,
  kUnavailable,
  kFailedPrecondition,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context as the error climbs: "loading config: " + "shops[0].id: ...".
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + ": " + message_);
  }

  // "INVALID_ARGUMENT: message", for logs.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status PayloadTooLarge(std::string m) {
  return {StatusCode::kPayloadTooLarge, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(state_).ok() && "a Result holding a Status must be an error");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(state_);
  }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace loyaltyd

// Returns early from a function returning Status or Result<T>.
#define LOYALTYD_RETURN_IF_ERROR(expr) \
  do {                                 \
    ::loyaltyd::Status _st = (expr);   \
    if (!_st.ok()) return _st;         \
  } while (0)
