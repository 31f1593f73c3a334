// Errors as values across module boundaries. The kind is what callers branch on (the gateway maps
// each kind to one HTTP status in one place); the message is for people and never holds a secret,
// a path on the server, or a stack trace.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace serambi {

enum class ErrorKind {
    invalid_argument,   // the caller's input is malformed or out of range
    unauthenticated,    // the caller could not be identified (no known, current certificate)
    not_found,          // no such thing, or the caller may not know it exists
    permission_denied,  // the caller is known and may see the thing, but not do this to it
    conflict,           // the thing already exists or is in the wrong state
    too_large,          // over a configured limit
    corruption,         // stored or received data failed an integrity check
    io_error,           // the operating system refused a file or network operation
    unavailable,        // a dependency (disk, database) cannot serve now
    internal,           // a bug or an impossible state; details go to the server log only
};

const char* to_string(ErrorKind kind) noexcept;

struct Error {
    ErrorKind kind;
    std::string message;
};

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }

    const Error& error() const { return std::get<1>(state_); }

  private:
    std::variant<T, Error> state_;
};

// A Result with nothing in it but success or an error.
class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
    template <class T>
    static Status of(const Result<T>& r) {
        return r.ok() ? Status() : Status(r.error());
    }

    bool ok() const noexcept { return !failed_; }
    explicit operator bool() const noexcept { return ok(); }
    const Error& error() const { return error_; }

  private:
    Error error_{ErrorKind::internal, {}};
    bool failed_ = false;
};

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

}  // namespace serambi
