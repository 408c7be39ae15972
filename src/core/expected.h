#pragma once
// Expected<T>: a value or an Error, with the std::expected API subset Granska uses (C++20 has no std::expected).

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

#include "core/error.h"

namespace granska {

class Unexpected {
public:
    explicit Unexpected(Error error) : error_(std::move(error)) {}
    Error& error() & { return error_; }
    Error&& error() && { return std::move(error_); }

private:
    Error error_;
};

// A value other than T itself, an Expected or an Unexpected that T can be constructed from.
template <typename U, typename T, typename Self>
concept ConvertibleValue =
    std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, Self> &&
    !std::is_same_v<std::remove_cvref_t<U>, Unexpected> && !std::is_same_v<std::remove_cvref_t<U>, T>;

template <typename T>
class [[nodiscard]] Expected {
public:
    Expected(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(google-explicit-constructor)
    Expected(Unexpected unexpected)                                          // NOLINT(google-explicit-constructor)
        : state_(std::in_place_index<1>, std::move(unexpected).error()) {}
    // Anything T can be made from, e.g. a string literal for Expected<std::string>.
    template <ConvertibleValue<T, Expected> U>
    // NOLINTNEXTLINE(google-explicit-constructor,bugprone-forwarding-reference-overload)
    Expected(U&& value) : state_(std::in_place_index<0>, T(std::forward<U>(value))) {}

    bool has_value() const { return state_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return Get(); }
    const T& value() const& { return Get(); }
    T&& value() && { return std::move(Get()); }
    T& operator*() & { return Get(); }
    const T& operator*() const& { return Get(); }
    T* operator->() { return &Get(); }
    const T* operator->() const { return &Get(); }

    const Error& error() const& {
        assert(!has_value());
        return std::get<1>(state_);
    }
    Error&& error() && {
        assert(!has_value());
        return std::get<1>(std::move(state_));
    }

private:
    T& Get() {
        assert(has_value());
        return std::get<0>(state_);
    }
    const T& Get() const {
        assert(has_value());
        return std::get<0>(state_);
    }
    std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Expected<void> {
public:
    Expected() = default;
    // NOLINTNEXTLINE(google-explicit-constructor)
    Expected(Unexpected unexpected) : error_(std::move(unexpected).error()), failed_(true) {}

    bool has_value() const { return !failed_; }
    explicit operator bool() const { return has_value(); }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

private:
    Error error_;
    bool failed_ = false;
};

}  // namespace granska
