#pragma once
/// The pickle codec: `.p`, `.pkl`, `.pickle`, application/x-python-pickle. Carried as opaque
/// bytes: sealrun never decodes or executes a pickle.

#include <string>
#include <string_view>

#include "sealrun/content/stream.h"

namespace sealrun::codecs {

/// Pickle is a Python pickle's bytes, kept opaque.
struct Pickle {
    /// data holds the pickle's bytes, never unpickled.
    std::string data;
    friend bool operator==(const Pickle&, const Pickle&) = default;
};

/// PickleCodec carries pickles byte for byte.
struct PickleCodec {
    /// value_type is what decode returns: the opaque pickle.
    using value_type = Pickle;
    /// media_type is application/x-python-pickle.
    static constexpr std::string_view media_type = "application/x-python-pickle";
    /// encode returns the pickle's bytes unchanged.
    static std::string encode(const Pickle& p) { return p.data; }
    /// decode carries the bytes without executing them; it never throws.
    static Pickle decode(std::string_view bytes) { return Pickle{std::string(bytes)}; }
    /// check accepts any bytes, as decode does, reading them as a stream.
    static std::string check(content::ReadStream& in) {
        content::drain(in);
        return {};
    }
};

}  // namespace sealrun::codecs
