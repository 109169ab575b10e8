#pragma once
// Test support: which sealrun::Error a call throws.

#include <doctest/doctest.h>

#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <string>

#include "sealrun/error.h"

namespace sealrun::test {

// ThrownError is what a call threw: its code and message.
struct ThrownError {
    Errc code = Errc::io;
    std::string message;
};

// thrown runs fn and returns the sealrun::Error it threw; the test fails when
// it throws nothing.
inline ThrownError thrown(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return {e.code(), e.what()};
    }
    FAIL("expected a sealrun::Error, none was thrown");
    return {};
}

// errc_of returns the code of the sealrun::Error fn throws.
inline Errc errc_of(const std::function<void()>& fn) { return thrown(fn).code; }

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// has reports whether `needle` occurs in `haystack`.
inline bool has(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// error_of returns the sealrun::Error fn throws, or nullopt when it throws none.
template <class F>
std::optional<Error> error_of(F&& fn) {
    try {
        std::forward<F>(fn)();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

}  // namespace sealrun::test
